// thread_state_pool.h — the states of finished threads kept for the next threads.
// A program that starts short-lived threads one after another (a thread per task,
// per connection) would otherwise allocate and free a ThreadState (8 KiB) and its
// clock's reserved epochs (16 KiB) for every thread; a kept state is constructed
// again in place, its clock's storage handed over, so the next creation takes it
// with no allocation. At most kSpares are kept: what a program's freed memory would
// hold anyway. Ordinary context only (creation, join, exit).
#pragma once

#include "thread_state.h"

namespace racetrap {

// A state as a new one is (constructed, its clock reserved for kMaxThreadSlots),
// or nullptr when none is kept.
ThreadState* take_spare_thread_state();
// Keeps `t` (a finished thread's state, nothing else refers to it) for the next
// thread, or frees it when enough are kept.
void keep_or_free_thread_state(ThreadState* t);

}  // namespace racetrap
