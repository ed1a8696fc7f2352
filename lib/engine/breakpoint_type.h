// breakpoint_type.h — what a debug register fires on: writes only, or reads and
// writes (the values are the kernel's HW_BREAKPOINT_W / HW_BREAKPOINT_RW).
#pragma once

#include <cstdint>

namespace racetrap {

enum class BreakpointType : uint8_t { kWrite = 2, kReadWrite = 3 };

}  // namespace racetrap
