// fault_in.h — makes memory resident now, page by page, so that a later first
// touch (inside a program's lock hold, where racetrap must not fault) finds it
// mapped. Ordinary context.
#pragma once

#include <cstddef>

namespace racetrap {

// Reads and writes back one byte of every page of [p, p + size) (size > 0).
inline void fault_in(void* p, size_t size) {
  auto* bytes = static_cast<volatile unsigned char*>(p);
  for (size_t i = 0; i < size; i += 4096) bytes[i] = bytes[i];
  bytes[size - 1] = bytes[size - 1];
}

}  // namespace racetrap
