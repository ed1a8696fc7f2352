// lock_tracking.h — lock-order inversions (potential deadlocks) and pthread mutex
// misuse, found deterministically by the mutex, rwlock and spin-lock interposers
// (interpose_sync.cc, interpose_rwlock.cc, interpose_spin_once.cc; the misuse of
// other objects is in lock_misuse.h). Each thread keeps the locks it holds
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
#include <ctime>

#include "held_locks.h"
#include "own_code.h"
#include "thread_state.h"
#include "vdso_clock.h"

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
// What before_mutex_unlock saw of an unlock of a mutex the thread does not hold:
// libc's view of the mutex before the call, for after_mutex_unlock's report.
struct UnlockCheck {
  bool suspect = false;  // the thread does not hold it: report once the call returned
  bool locked = false;   // libc: locked by someone
  uint32_t owner = 0;    // libc: the owner's tid
};
// Before pthread_mutex_unlock: the thread no longer holds it. When it did not
// hold it (whatever the mutex kind), the returned check is `suspect`.
UnlockCheck before_mutex_unlock_slow(ThreadState* t, pthread_mutex_t* m);
inline UnlockCheck before_mutex_unlock(ThreadState* t, pthread_mutex_t* m) {
  if (t->held_locks.untracked() == 0 && t->held_locks.pop(reinterpret_cast<uint64_t>(m))) return {};
  return before_mutex_unlock_slow(t, m);
}
// After the real unlock returned `rc`, for a suspect check: reports an invalid
// mutex (EINVAL), an unlock of an unlocked mutex or of one another thread holds,
// with what the call returned.
void after_mutex_unlock(ThreadState* t, pthread_mutex_t* m, const UnlockCheck& check, int rc, uint64_t ret);
// After pthread_mutex_lock or trylock returned EINVAL: `m` is no mutex.
void report_invalid_mutex(ThreadState* t, pthread_mutex_t* m, int rc, uint64_t ret);
// Before pthread_rwlock_unlock or pthread_spin_unlock: false when the thread
// did not hold it (as far as the interposers saw; never false while locks are
// untracked).
inline bool before_rwlock_unlock(ThreadState* t, const void* lock) {
  const bool untracked = t->held_locks.untracked() > 0;
  return t->held_locks.pop(reinterpret_cast<uint64_t>(lock)) || untracked;
}

// Appends a misuse report (once per kind and call site `ret`; 0: once per kind
// and record.earlier_pc) with the thread and the stack of the current call
// filled in; the caller fills kind, object, address and what it knows. When
// `ret` is 0 the stack is the single frame record.earlier_pc.
void report_misuse(ThreadState* t, MisuseRecord& record, uint64_t ret);
// Before pthread_mutex_destroy: reports destroying a locked mutex.
void before_mutex_destroy(ThreadState* t, pthread_mutex_t* m, uint64_t ret);
// After a successful destroy: the lock's edges are forgotten.
void after_lock_destroyed(ThreadState* t, const void* lock);
// Before pthread_cond_*wait: reports a wait with a mutex the thread does not hold.
void before_cond_wait(ThreadState* t, pthread_mutex_t* m, uint64_t ret);

// Right after the real lock call (or before waiting on in a stuck one), still in
// the interposer: takes the stack of the edges queued before it.
void take_pending_stacks(ThreadState* t);
inline void after_lock_call(ThreadState* t) {
  if (t->pending_edges.stacks_pending() != 0) take_pending_stacks(t);
}
// Adds the thread's queued lock-order edges (ThreadState::pending_edges) to the
// graph, writing any cycle they close. Ordinary context, inside a RuntimeScope.
void add_pending_edges(ThreadState* t);
// After an unlock's real call: once the thread holds no lock, its queued edges.
inline void after_unlock(ThreadState* t) {
  if (t->pending_edges.count() != 0 && t->held_locks.count() == 0) add_pending_edges(t);
}

// A thread with queued edges that waits this long for a lock (without a deadline
// of its own) adds them before waiting on: see lock_adding_edges_when_stuck.
constexpr int kStuckLockMs = 100;
inline timespec deadline_after_ms(int ms) {
  timespec t{};
  vdso_clock_gettime(CLOCK_MONOTONIC, &t);
  t.tv_nsec += static_cast<long>(ms) * 1'000'000;
  t.tv_sec += t.tv_nsec / 1'000'000'000;
  t.tv_nsec %= 1'000'000'000;
  return t;
}

// Faults the thread's queue (PendingLockEdges) in, stocks the snapshot pool
// (lock_snapshot_pool.h) and makes the lock paths ready
// (lock_path_code.h): by the creator for a new thread (its first lock then maps
// and faults nothing), by the thread's first lock for the main thread.
void prepare_lock_tracking(ThreadState* t);
inline void before_lock(const Runtime& rt, ThreadState* t) {
  if (!t->lock_tracking_prepared && t->held_locks.count() == 0 && rt.flags.detect_deadlocks) prepare_lock_tracking(t);
}

// In a forked child (atfork handler): resets the graph's lock.
void lock_tracking_after_fork_child();

}  // namespace racetrap
