// lock_misuse.h — misuse of rwlocks, condition variables, barriers, semaphores,
// annotated locks and thread exit, found by their interposers (the mutex checks
// and the lock-order graph are in lock_tracking.h). Each finding is appended to
// the raw stream as a MisuseRecord (lock_tracking.h report_misuse: once per kind
// and call site); the program's call always runs unchanged.
//
// "In use" is read from glibc's (NPTL, x86-64) object layouts: waiters a barrier,
// semaphore or condition variable counts, the reader count and writer bit of a
// rwlock. Only for objects the program initialized through the interposers does
// an init check look at the old contents (memory before its first init is
// garbage); a set of those objects is kept without allocation.
//
// All functions: ordinary context, the calling thread `t` inside a RuntimeScope,
// only when lock_tracking_on(ret) (`ret`: the interposer's return address, the
// program's call site). Each checks RACETRAP_REPORT_MISUSE itself.
#pragma once

#include <pthread.h>
#include <semaphore.h>

#include <cstdint>

#include "thread_state.h"

namespace racetrap {

// pthread_rwlock_unlock by a thread that held no lock on it (before_rwlock_unlock
// returned false) and is not its writer per libc: reported with what it returned.
void report_rwlock_unlock_unheld(ThreadState* t, const pthread_rwlock_t* l, int rc, uint64_t ret);
// pthread_rwlock_destroy: whether a thread holds it (before the call), and the report after it.
struct RwlockUse {
  bool held = false;
  uint32_t writer = 0;  // libc's writer tid (0: none)
};
RwlockUse rwlock_use(const pthread_rwlock_t* l);
void report_rwlock_destroy_held(ThreadState* t, const pthread_rwlock_t* l, const RwlockUse& use, int rc,
                                uint64_t ret);

// pthread_cond_*wait: the condition is waited on with `m` from here until
// cond_wait_end; reports a wait with another mutex while others wait with theirs.
void cond_wait_begin(ThreadState* t, const pthread_cond_t* c, const pthread_mutex_t* m, uint64_t ret);
void cond_wait_end(const pthread_cond_t* c);
// Before pthread_cond_destroy (which blocks while waiters remain): reports waiters.
void before_cond_destroy(ThreadState* t, pthread_cond_t* c, uint64_t ret);

// pthread_barrier_init: before the call, whether the barrier is in use (it was
// initialized before and threads wait on it); after it, the reports (count 0,
// re-init in use) with what the call returned.
bool barrier_in_use_before_init(const pthread_barrier_t* b);
void after_barrier_init(ThreadState* t, pthread_barrier_t* b, unsigned count, bool was_in_use, int rc,
                        uint64_t ret);
// Before pthread_barrier_destroy (which blocks while the round is unfinished).
void before_barrier_destroy(ThreadState* t, pthread_barrier_t* b, uint64_t ret);

// sem_init: the same as the barrier's. sem_destroy: whether threads wait on it
// (before the call), the report after it.
bool sem_in_use_before_init(const sem_t* s);
void after_sem_init(ThreadState* t, sem_t* s, bool was_in_use, int rc, uint64_t ret);
bool sem_has_waiters(const sem_t* s);
void after_sem_destroy(ThreadState* t, sem_t* s, bool had_waiters, int rc, uint64_t ret);

// A thread ends (pthread_exit, `ret` its call site; or its start routine
// returned, `ret` 0): reports the mutexes it still holds (libc agreeing).
void check_locks_at_thread_exit(ThreadState* t, uint64_t ret);

// AnnotateRWLockReleased of a lock the thread does not hold.
void report_annotated_unlock_unheld(ThreadState* t, const volatile void* lock, uint64_t ret);

}  // namespace racetrap
