// lock_tracking.h — lock-order inversions (potential deadlocks) and pthread mutex
// misuse, found deterministically by the mutex and rwlock interposers
// (interpose_sync.cc, interpose_rwlock.cc). Each thread keeps the locks it holds
// (ThreadState::held_locks); a nested acquisition adds held→acquired edges to the
// process-wide LockOrderGraph (lib/engine/lock_order_graph.h), and an edge closing a
// cycle is appended to the raw stream at once (LockCycleRecord). Misuse is
// appended as a MisuseRecord, once per kind and call site; the call itself is
// always passed through unchanged.
//
// All functions: ordinary context, called by the thread `t` itself inside a
// RuntimeScope (so locks taken by racetrap's own code, e.g. libunwind's, are not
// tracked). `ret` is the interposer's return address (__builtin_return_address(0)):
// the program's call site, for the held-lock record and the misuse deduplication.
#pragma once

#include <pthread.h>

#include <cstdint>

#include "held_locks.h"
#include "own_code.h"
#include "thread_state.h"

namespace racetrap {

// RACETRAP_DETECT_DEADLOCKS or RACETRAP_REPORT_MISUSE, and a call from the
// program (`ret`: the interposer's return address): held locks are tracked.
inline bool lock_tracking_on(const Runtime& rt, void* ret) {
  const Flags& f = rt.flags;
  return (f.detect_deadlocks || f.report_misuse) && !called_from_racetrap(reinterpret_cast<uint64_t>(ret));
}
inline bool lock_tracking_on(void* ret) { return lock_tracking_on(runtime(), ret); }

// glibc (NPTL) mutex kinds that deadlock when their owner locks them again
// (normal/default and adaptive; not recursive or error-checking).
bool mutex_is_nonrecursive(const pthread_mutex_t* m);

// Before a blocking acquisition of `lock` (lock, timedlock, clocklock, rdlock,
// wrlock and their timed forms; not trylock, which cannot deadlock): reports a
// self-deadlock when `nonrecursive_mutex` and the thread holds it already, and
// adds lock-order edges from every lock the thread holds.
// (`nonrecursive_mutex`: the lock is a pthread_mutex_t, judge its kind.)
void before_blocking_lock_slow(ThreadState* t, const void* lock, bool is_mutex, uint64_t ret);
inline void before_blocking_lock(ThreadState* t, const void* lock, bool is_mutex, uint64_t ret) {
  if (t->held_locks.count() != 0) before_blocking_lock_slow(t, lock, is_mutex, ret);  // nothing held: no check
}
// After any successful acquisition (trylock included): the thread holds `lock`.
inline void after_lock(ThreadState* t, const void* lock, HeldMode mode, uint64_t ret) {
  t->held_locks.push(reinterpret_cast<uint64_t>(lock), ret != 0 ? ret - 1 : 0, 0, mode);
}
// Before pthread_mutex_unlock: the thread no longer holds it; for kinds whose
// wrong unlock is undefined (normal, adaptive), reports an unlock of an unlocked
// mutex or of one held by another thread.
void before_mutex_unlock_slow(ThreadState* t, pthread_mutex_t* m, uint64_t ret);
inline void before_mutex_unlock(ThreadState* t, pthread_mutex_t* m, uint64_t ret) {
  if (t->held_locks.untracked() == 0 && t->held_locks.pop(reinterpret_cast<uint64_t>(m))) return;
  before_mutex_unlock_slow(t, m, ret);
}
// Before pthread_rwlock_unlock.
inline void before_rwlock_unlock(ThreadState* t, const void* lock) {
  t->held_locks.pop(reinterpret_cast<uint64_t>(lock));
}
// Before pthread_mutex_destroy: reports destroying a locked mutex.
void before_mutex_destroy(ThreadState* t, pthread_mutex_t* m, uint64_t ret);
// After a successful destroy: the lock's edges are forgotten.
void after_lock_destroyed(ThreadState* t, const void* lock);
// Before pthread_cond_*wait: reports a wait with a mutex the thread does not hold.
void before_cond_wait(ThreadState* t, pthread_mutex_t* m, uint64_t ret);

// In a forked child (atfork handler): resets the graph's lock.
void lock_tracking_after_fork_child();

}  // namespace racetrap
