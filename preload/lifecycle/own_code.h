// own_code.h — where racetrap's own code is: the executable segments of
// libracetrap.so and of libunwind, found once when the library is loaded.
// called_from_racetrap is signal-safe (plain reads of data written before any
// thread runs); the lock interposers and the deferred sample ask it.
#pragma once

#include <cstdint>

namespace racetrap {

// True when `ret` (an interposer's return address) is in racetrap's own code or in
// libunwind: locks taken there (e.g. libunwind's caches, while a signal handler
// unwinds the interrupted program) are not the program's and are not tracked —
// tracking them would capture a stack, i.e. re-enter libunwind under its own lock.
struct CodeRange {
  uintptr_t begin = 0, end = 0;
};
constexpr int kMaxOwnCodeRanges = 8;
extern CodeRange g_own_code[kMaxOwnCodeRanges];  // filled once at load (own_code.cc)
extern int g_own_code_count;
extern CodeRange g_own_code_span;  // from the lowest begin to the highest end: one test for most calls
inline bool called_from_racetrap(uint64_t ret) {
  if (ret < g_own_code_span.begin || ret >= g_own_code_span.end) return false;
  for (int i = 0; i < g_own_code_count; ++i)
    if (ret >= g_own_code[i].begin && ret < g_own_code[i].end) return true;
  return false;
}

}  // namespace racetrap
