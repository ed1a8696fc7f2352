// watchpoint_trap.h — a debug register fired: decide race or not, record a race.
// signal-safe.
#pragma once

#include <cstdint>

namespace racetrap {
struct ThreadState;
void on_watchpoint_trap(ThreadState& t, void* ucontext, unsigned slot, uint64_t generation, bool async);
}  // namespace racetrap
