// fresh_pages.h — the destination pages of a large memcpy, memmove or memset that
// are not yet in memory, faulted in with the calling thread's debug registers off
// just before the copy, which then runs with them on as before.
//
// A page the program touches for the first time is cleared by the kernel with
// rep stosb, which an enabled data breakpoint makes slower whatever address it
// watches (bench/armed_switch fault: 1.84 -> 2.86 us a page on the host measured),
// and a thread is armed nearly all the time. Most of zstd's first touches (79%)
// and a third of xz's are inside the C library's memcpy/memmove/memset.
// MADV_POPULATE_WRITE faults in exactly the pages the call is about to write, as
// the call's own writes would have (same pages, same zeroes, same memory use);
// only the kernel's clearing moves out of the armed stretch. The call's own
// accesses are the program's and stay watched.
// Worth it only where enough of the range is fresh: mincore() over its first pages
// decides (a call on memory already in use pays that one system call).
// signal-safe: mincore, madvise and ioctls on the thread's own descriptors, errno kept.
#pragma once

#include <cstddef>

#include "thread_state.h"

namespace racetrap {

// Destinations from this size up are looked at.
constexpr size_t kFaultInFromBytes = 64 * 1024;

// Called by the string interposers for a call of `bytes` at `dst` by a thread with
// a register armed.
void fault_in_fresh_destination(ThreadState* t, void* dst, size_t bytes);

}  // namespace racetrap
