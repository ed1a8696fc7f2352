// happens_before.h — the release/acquire edges every interposer builds on.
// Ordinary context only (interposers), with the thread inside a RuntimeScope.
// The edges themselves are the engine's (happens_before_edges.h).
// The lock path's cost: the overloads taking a Runtime& let an
// interposer look up the runtime and the thread once per call.
#pragma once

#include <cstdint>

#include "arming.h"
#include "deferred_sample.h"
#include "happens_before_edges.h"
#include "thread_state.h"

namespace racetrap {

// The calling thread's state when racetrap watches it, else nullptr.
// Calls made from inside racetrap's own code, the allocator (in_runtime > 0) or
// racetrap's signal handler (libunwind locks) are not the program's
// synchronization: they get no edges, and the bookkeeping (which allocates and
// locks) must not re-enter an allocator that holds its own lock, nor run in a
// signal handler.
// The two flags are read with separate 4-byte loads: the compiler would otherwise
// merge them into one 8-byte load, which cannot be forwarded from the 4-byte
// store of in_runtime that the previous interposer's RuntimeScope just made, and
// stalls until that store retires (measured: half of an uncontended lock pair).
inline ThreadState* watched_thread(const Runtime& rt) {
  ThreadState* t = rt.active ? current_thread() : nullptr;
  if (t == nullptr || __atomic_load_n(&t->in_runtime, __ATOMIC_RELAXED) != 0) return nullptr;
  return __atomic_load_n(&t->in_signal_handler, __ATOMIC_RELAXED) == 0 ? t : nullptr;
}
inline ThreadState* watched_thread() { return watched_thread(runtime()); }

inline uintptr_t sync_key(const void* object) { return reinterpret_cast<uintptr_t>(object); }

// The object's clock joins into the thread's (the edge only; no arming).
inline void join_from(Runtime& rt, ThreadState* t, const void* object) {
  acquire_edge(rt.sync_clocks, sync_key(object), t->clock);
}
inline void join_from(ThreadState* t, const void* object) { join_from(runtime(), t, object); }

// The thread's debug registers, brought up to date with the board when it changed
// (sync_debug_registers returns at once otherwise; this saves the call).
inline void sync_watches(Runtime& rt, ThreadState* t) {
  if (rt.board.version() != t->board_version_seen) sync_debug_registers(*t);
}

// From here until the interposer returns, no further edge touches the thread's
// clock: the program's next access follows at once, so a tick now may sample it
// (deferred_sample.h), and that sample ticks the clock (build_watch), which must
// not interleave with a join into it. Before this point a deferred sample could
// name an access that will be ordered after another thread's (a lock that is
// still to be acquired); a tick that came before it is taken now instead
// (kTickPostponed: in a contended lock most CPU time is the lock's own atomic
// instruction, before the acquire).
inline void mark_deferrable(ThreadState* t) {
  std::atomic_signal_fence(std::memory_order_seq_cst);
  const int before = t->deferrable;
  t->deferrable = kDeferrable;
  if (before == kTickPostponed) [[unlikely]] raise_postponed_tick();
}

// An acquisition split around a blocking lock call by a thread that holds no
// other lock (the hold it starts is the window an ABBA deadlock needs):
// join_before_lock joins the object's clock before the call; joined_before_lock,
// after it, says whether that join still stands (no release into the object came
// in between), else the caller acquires again.
// The caller brings the debug registers up to date (sync_watches) with the early
// join, before the call: a watch published since the thread last looked is armed
// (an ioctl, microseconds) before the hold the lock starts, not inside it, where
// it would slow the program's critical section and widen the window an ABBA
// deadlock needs. A watch published during the call is armed at the thread's next
// acquire or tick, as one published just after it would be; a trap is judged
// against the thread's clock when it comes, so a register armed on a watch the
// lock then orders reports nothing.
// Only for blocking locks, which fail only when misused: after a failed try or a
// timed-out wait the early join would order the thread after releases it never
// acquired.
inline uint64_t join_before_lock(Runtime& rt, ThreadState* t, const void* object) {
  return rt.sync_clocks.acquire_early(sync_key(object), t->clock);
}
inline bool joined_before_lock(const Runtime& rt, const void* object, uint64_t version) {
  return rt.sync_clocks.unchanged_since(sync_key(object), version);
}

// The rest of an acquire once the join is made (by acquire, or before the lock
// call by SyncClockTable::acquire_early and still holding): the thread's debug
// registers brought up to date, deferred samples allowed.
inline void acquired_early(Runtime& rt, ThreadState* t) {
  sync_watches(rt, t);
  mark_deferrable(t);
}
// Everything released into `object` so far happens-before what the thread does
// next; then the thread's debug registers are brought up to date.
inline void acquire(Runtime& rt, ThreadState* t, const void* object) {
  join_from(rt, t, object);
  acquired_early(rt, t);
}
inline void acquire(ThreadState* t, const void* object) { acquire(runtime(), t, object); }

// What the thread did so far happens-before whoever acquires `object` later.
// A release at generation g after which the generation still reads g changed no
// clock: the object's clock held everything the thread's did, and both still do
// while the generation stands (every change of any clock's content moves it,
// vector_clock.h). Such an object is noted (ThreadState::released_objects), and
// its next releases look neither at the sync table nor at the object's line: a
// thread unlocking a mutex it holds with others, a reader leaving an rwlock whose
// read clock holds other readers' epochs too (there the table's release would
// take the entry's lock, a line every reader writes), a signal or a post.
inline void release(Runtime& rt, ThreadState* t, const void* object) {
  const uint64_t generation = clock_generation();
  if (t->released_objects.knows(sync_key(object), generation)) return;
  release_edge(rt.sync_clocks, sync_key(object), t->clock);
  t->released_objects.note(sync_key(object), generation);
}
inline void release(ThreadState* t, const void* object) { release(runtime(), t, object); }

// Both directions at once (a rendezvous: barriers, futex waits and wakes): the
// thread takes what `object` holds, then leaves everything it knows there.
inline void acquire_release(ThreadState* t, const void* object) {
  join_from(t, object);
  release(t, object);
  sync_debug_registers(*t);
}

// Reader-writer model (pthread rwlocks, AnnotateRWLock*): a writer's unlock
// releases into the lock's write clock, a reader's unlock into its read clock
// (keyed one byte further on). A reader acquires the write clock only, so two
// readers stay unordered; a writer acquires both.
inline const void* rwlock_read_key(const void* lock) { return static_cast<const char*>(lock) + 1; }
inline void rwlock_acquire(ThreadState* t, const void* lock, bool writer) {
  if (writer) join_from(t, rwlock_read_key(lock));
  acquire(t, lock);
}
inline void rwlock_release(ThreadState* t, const void* lock, bool writer) {
  release(t, writer ? lock : rwlock_read_key(lock));
}
inline void rwlock_forget(const void* lock) {
  runtime().sync_clocks.forget(sync_key(lock));
  runtime().sync_clocks.forget(sync_key(rwlock_read_key(lock)));
}

// The shapes every interposer takes. `real` runs inside a RuntimeScope (libc's
// own accesses to the object are never sampled or trapped on); when racetrap does
// not watch the thread, it is just called.

// A call that acquires `object` when it succeeded (`ok(rc)`): lock, wait, post-wait.
template <typename Ok, typename Fn, typename... Args>
auto acquire_call(Ok ok, const void* object, Fn real, Args... args) {
  Runtime& rt = runtime();
  ThreadState* t = watched_thread(rt);
  if (t == nullptr) return real(args...);
  RuntimeScope scope(t);
  auto rc = real(args...);
  if (ok(rc)) acquire(rt, t, object);
  return rc;
}

// A call that releases `object` before it runs: unlock, post, signal.
template <typename Fn, typename... Args>
auto release_call(const void* object, Fn real, Args... args) {
  Runtime& rt = runtime();
  ThreadState* t = watched_thread(rt);
  if (t == nullptr) return real(args...);
  RuntimeScope scope(t);
  release(rt, t, object);
  mark_deferrable(t);
  return real(args...);
}

inline bool returned_zero(int rc) { return rc == 0; }

}  // namespace racetrap
