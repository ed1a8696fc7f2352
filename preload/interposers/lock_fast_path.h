// lock_fast_path.h — the tests and the in-runtime mark the lock interposers' fast
// paths share (mutexes: interpose_sync.cc, rwlocks: interpose_rwlock.cc, spin
// locks: interpose_spin_once.cc): the common case, a watched thread's own call
// with lock tracking on, holding no lock (or, at the unlock, only the one it
// releases) and with no lock-order edge queued, has no edge or misuse to check and
// takes one straight line.
// Ordinary context (interposers).
#pragma once

#include <atomic>
#include <cstdint>

#include "happens_before.h"
#include "lock_tracking.h"
#include "thread_state.h"

namespace racetrap {

// The calling thread when a lock's fast path may take its call, else nullptr:
// watched (watched_thread's tests), the program's call (`ret`) with lock tracking
// on, no lock-order edge queued.
__attribute__((always_inline)) inline ThreadState* fast_path_thread(const Runtime& rt, void* ret) {
  ThreadState* t = current_thread();
  if (t == nullptr || !rt.active) return nullptr;
  // One test for three words (each read on its own: see watched_thread).
  const uint64_t busy = runtime_marks::runtime_or_handler(t) | static_cast<uint32_t>(t->pending_edges.count());
  if (busy != 0 || !lock_tracking_on(rt, ret)) return nullptr;
  return t;
}

// RuntimeScope for the fast paths, which know the thread was outside racetrap
// (in_runtime == 0) and whose real call cannot throw: in_runtime 1 and
// kNotDeferrable (a stale value from the previous call cleared) with one store.
__attribute__((always_inline)) inline void fast_enter(ThreadState* t) { runtime_marks::set(t, 1, kNotDeferrable); }

// mark_deferrable and leave_runtime, for a fast path that entered with fast_enter
// (in_runtime 1) and has no acquire left: one store, unless a tick came during the
// call (kTickPostponed), which mark_deferrable raises first, while the thread is
// still inside racetrap (deferred_sample.h).
__attribute__((always_inline)) inline void fast_leave_deferrable(ThreadState* t) {
  if (t->deferrable == kTickPostponed) [[unlikely]] mark_deferrable(t);
  runtime_marks::set(t, 0, kDeferrable);
}

// After the real call of a blocking lock that joined the lock's clock before it
// (join_before_lock returned `version`, and the clock generation read after that
// join was `generation`): whether the join still stands. A generation that still
// stands says so without reading the sync table inside the hold the lock starts
// (the window a lock-order deadlock needs): every release into the lock before its
// real unlock moved the generation first, and the real lock orders that move
// before this read. A moved generation (some clock changed meanwhile) compares the
// lock's clock version (joined_before_lock); kNoVersion (an overflowed table, no
// version to compare) never stands.
__attribute__((always_inline)) inline bool early_join_stands(const Runtime& rt, const void* lock, uint64_t version,
                                                             uint64_t generation) {
  if (version == SyncClockTable::kNoVersion) return false;
  return clock_generation() == generation || joined_before_lock(rt, lock, version);
}

// Fetches the first `lines` cache lines of the function at `code` into this core's
// caches: a lock taken while the thread holds none does it before its real call for
// the nested path the thread's next lock runs inside the hold this one starts (the
// window an ABBA deadlock needs), where a thread's first nested lock would otherwise
// wait for its code to come from memory.
__attribute__((always_inline)) inline void prefetch_code(const void* code, int lines) {
  for (int line = 0; line < lines; ++line) __builtin_prefetch(static_cast<const char*>(code) + 64 * line);
}

// A lock by a thread that holds no lock and has its lock-order queue prepared (never, with deadlock detection off).
__attribute__((always_inline)) inline bool lock_fast_path_open(const ThreadState* t) {
  return t->held_locks.count() == 0 && t->lock_tracking_prepared;
}

// Whether an unlock's fast path may take the call: the unlock of the one lock the
// thread holds, taken once, with no lock-order edge queued, by the program's code.
// This runs inside the program's hold (another thread waiting for the lock waits
// for it), so it tests less than fast_path_thread: only the lock fast paths record
// a lock that holds_only then finds (HeldLocks::push_into_empty), and they ran for
// the program's call with racetrap active (which it stays) and lock tracking on;
// racetrap's own code never unlocks the program's locks, and a lock-order edge is
// queued only by a further lock (which ends holds_only), so neither the call site
// nor the tracking flags nor the runtime are looked at again.
__attribute__((always_inline)) inline bool unlock_fast_path_open(const ThreadState* t, const void* lock) {
  if (t == nullptr || !t->held_locks.holds_only(reinterpret_cast<uint64_t>(lock))) return false;
  return (runtime_marks::runtime_or_handler(t) | static_cast<uint32_t>(t->pending_edges.count())) == 0;
}

}  // namespace racetrap
