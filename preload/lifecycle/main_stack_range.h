// main_stack_range.h — the main thread's stack range, computed as glibc's
// pthread_getattr_np computes it (the /proc/self/maps entry that holds the initial
// stack pointer, the stack rlimit, the end of the mapping below), read with
// open/read and parsed by hand: pthread_getattr_np reads the file through stdio
// and sscanf, and those calls are what maps libc's stdio and scanf code (about
// 100 KiB of peak RSS) into a program that never uses it.
#pragma once

#include <cstdint>

namespace racetrap {

// [*begin, *end) of the main thread's stack; false (nothing set) when the file
// cannot be read or holds no entry for the initial stack pointer.
// Ordinary context; call it from the main thread or any other.
bool main_thread_stack_range(uint64_t* begin, uint64_t* end);

}  // namespace racetrap
