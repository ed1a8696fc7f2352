// interpose_rwlock.cc — pthread rwlocks as happens-before edges (C++
// std::shared_mutex and std::shared_timed_mutex are built on them).
// Model (happens_before.h rwlock_*): a successful write lock acquires what every
// earlier unlock released, a successful read lock what earlier *writers*
// released; an unlock releases into the writer or the reader clock depending on
// whether the caller holds the lock for writing (glibc's __cur_writer field names
// the writing thread). Failed calls (EBUSY, ETIMEDOUT, EDEADLK) acquire nothing.
// Lock tracking (lock_tracking.h): read and write locks are both held locks and
// both take part in the lock-order graph; a blocking lock adds its edges (a
// nested lock that is free after taking it, a busy one before waiting), a
// successful trylock adds none. The paths a thread's first plain locks run are
// made ready by its creator (lock_path_code.h).
#include <pthread.h>

#include <atomic>
#include <cerrno>
#include <cstdint>

#include "happens_before.h"
#include "lock_fast_path.h"
#include "lock_path_code.h"
#include "lock_misuse.h"
#include "lock_tracking.h"
#include "real_function.h"

namespace racetrap {
namespace {

using LockFn = int (*)(pthread_rwlock_t*);
using TimedFn = int (*)(pthread_rwlock_t*, const struct timespec*);
using ClockFn = int (*)(pthread_rwlock_t*, clockid_t, const struct timespec*);

// The real functions of the plain calls (cached_next_function: no function-local
// static, whose guard lines up two threads' first calls).
constinit std::atomic<LockFn> g_real_rdlock{nullptr}, g_real_wrlock{nullptr}, g_real_tryrdlock{nullptr},
    g_real_trywrlock{nullptr}, g_real_unlock{nullptr};
LockFn real_rdlock() { return cached_next_function(g_real_rdlock, "pthread_rwlock_rdlock"); }
LockFn real_wrlock() { return cached_next_function(g_real_wrlock, "pthread_rwlock_wrlock"); }
LockFn real_tryrdlock() { return cached_next_function(g_real_tryrdlock, "pthread_rwlock_tryrdlock"); }
LockFn real_trywrlock() { return cached_next_function(g_real_trywrlock, "pthread_rwlock_trywrlock"); }
LockFn real_rwlock_unlock() { return cached_next_function(g_real_unlock, "pthread_rwlock_unlock"); }

// pthread_rwlock_tryrdlock or trywrlock.
RACETRAP_LOCK_PATH_CODE int try_rwlock(bool writer, pthread_rwlock_t* l) {
  return (writer ? real_trywrlock() : real_tryrdlock())(l);
}

// glibc's (NPTL) rwlock state word: bit 0 the write phase, bit 1 write-locked, the
// rest waiting-reader and reader bits. A lock nobody holds or waits for reads 0 (read
// phase) or the write phase alone (a writer's unlock with no reader waiting leaves it).
constexpr unsigned kRwlockWritePhase = 1;
// Whether `l` looks free to a lock that tries it without waiting: no reader, no
// writer, nobody waiting (a hint, read without ordering; a lock taken meanwhile
// makes the real lock wait).
bool rwlock_looks_free(const pthread_rwlock_t* l) {
  const unsigned readers = __atomic_load_n(&l->__data.__readers, __ATOMIC_RELAXED);
  return (readers & ~kRwlockWritePhase) == 0 && __atomic_load_n(&l->__data.__writers, __ATOMIC_RELAXED) == 0;
}

// A plain rdlock/wrlock by a thread with queued lock-order edges: as
// lock_adding_edges_when_stuck (interpose_sync.cc).
int rwlock_adding_edges_when_stuck(ThreadState* t, bool writer, int (*real_lock)(pthread_rwlock_t*),
                                   pthread_rwlock_t* l) {
  using ClockLockFn = int (*)(pthread_rwlock_t*, clockid_t, const struct timespec*);
  static auto real_clockrd = next_function<ClockLockFn>("pthread_rwlock_clockrdlock");
  static auto real_clockwr = next_function<ClockLockFn>("pthread_rwlock_clockwrlock");
  // Free (the usual case): taken without reading the clock.
  if (const int rc = try_rwlock(writer, l); rc != EBUSY) return rc;
  const timespec deadline = deadline_after_ms(kStuckLockMs);
  const int rc = (writer ? real_clockwr : real_clockrd)(l, CLOCK_MONOTONIC, &deadline);
  if (rc != ETIMEDOUT && rc != EINVAL) return rc;
  if (rc == ETIMEDOUT) {
    take_pending_stacks(t);
    add_pending_edges(t);
  }
  return real_lock(l);
}

// `taken`: the result of a try the caller already made (rwlock_lock_nested), or kNotTried.
constexpr int kNotTried = -1;

// `blocking`: every form but try*; `ret`: the program's call site.
template <typename Fn, typename... Args>
int rwlock_lock_call_slow(Runtime& rt, ThreadState* t, bool writer, bool blocking, void* ret, int taken, Fn real,
                          pthread_rwlock_t* l, Args... args) {
  RuntimeScope scope(t);
  const bool track = lock_tracking_on(rt, ret);
  const HeldMode mode = writer ? HeldMode::kWrite : HeldMode::kRead;
  const uint64_t call = reinterpret_cast<uint64_t>(ret);
  // A plain lock by a thread that holds others tries the lock before its edges are
  // queued: between its previous lock and this one runs the window an ABBA deadlock
  // needs (interpose_sync.cc, lock_nested_try). Busy, the edges come first as for
  // any blocking lock.
  int tried = taken == kNotTried ? EBUSY : taken;
  if constexpr (sizeof...(Args) == 0) {
    if (taken == kNotTried && blocking && track && t->held_locks.count() != 0) tried = try_rwlock(writer, l);
  }
  if (track) before_lock(rt, t);
  if (track && blocking) before_blocking_lock(t, l, /*is_mutex=*/false, call);
  // Holding no lock: joined before the call (happens_before.h): the write clock,
  // and for a writer the read clock too, as rwlock_acquire does.
  const bool early = sizeof...(Args) == 0 && blocking && t->held_locks.count() == 0;
  uint64_t write_version = SyncClockTable::kNoVersion, read_version = SyncClockTable::kNoVersion;
  if (early) {
    write_version = join_before_lock(rt, t, l);
    if (writer) read_version = join_before_lock(rt, t, rwlock_read_key(l));
    sync_watches(rt, t);
  }
  int rc;
  if constexpr (sizeof...(Args) == 0) {  // the plain rdlock/wrlock
    if (tried != EBUSY) rc = tried;
    else rc = blocking && t->pending_edges.count() != 0 ? rwlock_adding_edges_when_stuck(t, writer, real, l) : real(l);
  } else {
    rc = real(l, args...);
  }
  if (track) after_lock_call(t);
  if (rc == 0) {
    if (track) after_lock(t, l, mode, call);  // before acquire(): see lock_call
    if (early && joined_before_lock(rt, l, write_version) &&
        (!writer || joined_before_lock(rt, rwlock_read_key(l), read_version)))
      mark_deferrable(t);
    else
      rwlock_acquire(t, l, writer);
  }
  return rc;
}

template <typename Fn, typename... Args>
int rwlock_lock_call(bool writer, bool blocking, void* ret, Fn real, pthread_rwlock_t* l, Args... args) {
  Runtime& rt = runtime();
  ThreadState* t = watched_thread(rt);
  if (t == nullptr) return real(l, args...);
  return rwlock_lock_call_slow(rt, t, writer, blocking, ret, kNotTried, real, l, args...);
}

int rwlock_lock_nested(Runtime& rt, ThreadState* t, void* ret, LockFn real, pthread_rwlock_t* l, bool writer);

// The fast path of a plain rdlock or wrlock by a thread that holds no lock, with no
// lock-order edge queued (lock_fast_path.h): what rwlock_lock_call does then,
// without its lock-tracking calls, which have nothing to do in that state (no edge
// to add, no self-deadlock to check, no stack to take). The held-lock entry is
// written before the call, as the mutex fast path does (interpose_sync.cc:
// lock_fast), so that the unlock can take rwlock_unlock_fast; a failed call takes
// it back.
RACETRAP_LOCK_PATH_CODE __attribute__((noinline)) int rwlock_lock_fast(Runtime& rt, ThreadState* t, void* ret,
                                                                       LockFn real, pthread_rwlock_t* l, bool writer) {
  fast_enter(t);
  t->held_locks.push_into_empty(reinterpret_cast<uint64_t>(l), reinterpret_cast<uint64_t>(ret) - 1,
                                writer ? HeldMode::kWrite : HeldMode::kRead);
  // Joined before the call (happens_before.h): the write clock, and for a writer
  // the read clock too, as rwlock_acquire does; after it, while the clock generation
  // stands, neither is looked up (early_join_stands).
  const uint64_t write_version = join_before_lock(rt, t, l);
  const uint64_t read_version = writer ? join_before_lock(rt, t, rwlock_read_key(l)) : 0;
  sync_watches(rt, t);
  prefetch_code(reinterpret_cast<const void*>(&rwlock_lock_nested), 4);  // the next lock's, in the hold
  const uint64_t generation = clock_generation();
  const int rc = real(l);
  if (rc == 0) {
    if (early_join_stands(rt, l, write_version, generation) &&
        (!writer || early_join_stands(rt, rwlock_read_key(l), read_version, generation)))
      mark_deferrable(t);
    else
      rwlock_acquire(t, l, writer);
  } else {
    t->held_locks.release_only();
  }
  leave_runtime(t);
  return rc;
}

// A plain rdlock or wrlock by a thread that holds other locks (fast_path_thread's
// tests passed): from its previous lock to this one runs the window an ABBA
// deadlock needs, so the lock is taken (or tried) first, as a nested mutex is
// (interpose_sync.cc, lock_nested_try): one that looks free (rwlock_looks_free)
// with the real lock, the call the thread's previous lock most likely ran (warm,
// where the try's code may be run by no lock of the process yet), a busy one with
// a try. Taken, the general path records it after the fact; busy, it queues the
// edges before waiting, as for any blocking lock. A lock taken by another thread
// between the read and the real lock makes this one wait with its edges queued
// after the wait rather than before: as a real deadlock needs the lock held before
// this thread arrives, it is then seen busy.
RACETRAP_LOCK_PATH_CODE __attribute__((noinline)) int rwlock_lock_nested(Runtime& rt, ThreadState* t, void* ret,
                                                                         LockFn real, pthread_rwlock_t* l,
                                                                         bool writer) {
  fast_enter(t);  // stays inside racetrap until the bookkeeping is done
  const int tried = rwlock_looks_free(l) ? real(l) : try_rwlock(writer, l);
  const int rc = rwlock_lock_call_slow(rt, t, writer, true, ret, tried == EBUSY ? kNotTried : tried, real, l);
  leave_runtime(t);
  return rc;
}

// pthread_rwlock_rdlock and pthread_rwlock_wrlock.
__attribute__((always_inline)) inline int rwlock_lock(bool writer, void* ret, LockFn real, pthread_rwlock_t* l) {
  Runtime& rt = runtime();
  ThreadState* t = fast_path_thread(rt, ret);
  if (t != nullptr) [[likely]] {
    if (lock_fast_path_open(t)) [[likely]] return rwlock_lock_fast(rt, t, ret, real, l, writer);
    if (t->held_locks.count() != 0) return rwlock_lock_nested(rt, t, ret, real, l, writer);
  }
  return rwlock_lock_call(writer, true, ret, real, l);
}

// Whether the calling thread `t` holds `l` for writing. Only the writer itself can
// see its own tid here: no other thread writes the field while this one holds the
// lock for writing.
RACETRAP_LOCK_PATH_CODE bool holds_for_writing(const pthread_rwlock_t* l, const ThreadState* t) {
  const int writer = __atomic_load_n(&l->__data.__cur_writer, __ATOMIC_RELAXED);
  return writer != 0 && static_cast<uint32_t>(writer) == t->os_tid;
}

// The unlock of the one lock the thread holds, taken once by rwlock_lock_fast, with
// no lock-order edge queued (lock_fast_path.h): nothing to check, nothing to add
// after; the release (a reader's into the read clock, a writer's into the write
// clock) skips the sync table when it would change nothing (happens_before.h).
RACETRAP_LOCK_PATH_CODE __attribute__((noinline)) int rwlock_unlock_fast(ThreadState* t, LockFn real,
                                                                         pthread_rwlock_t* l) {
  fast_enter(t);
  const bool is_writer = holds_for_writing(l, t);
  t->held_locks.release_only();
  rwlock_release(t, l, is_writer);
  mark_deferrable(t);
  const int rc = real(l);
  leave_runtime(t);
  return rc;
}

// pthread_rwlock_unlock outside the fast path; `ret`: the program's call site.
__attribute__((noinline)) int rwlock_unlock_call(void* ret, LockFn real, pthread_rwlock_t* l) {
  ThreadState* t = watched_thread();
  if (t == nullptr) return real(l);
  RuntimeScope scope;
  const bool is_writer = holds_for_writing(l, t);
  const bool track = lock_tracking_on(ret);
  // Held by this thread as far as the interposers saw (or write-locked by it
  // before racetrap watched it).
  const bool held = !track || before_rwlock_unlock(t, l) || is_writer;
  rwlock_release(t, l, is_writer);
  const int rc = real(l);
  if (track) after_unlock(t);
  if (!held) report_rwlock_unlock_unheld(t, l, rc, reinterpret_cast<uint64_t>(ret));
  return rc;
}

}  // namespace

void resolve_rwlock_functions() {
  (void)real_rdlock();
  (void)real_wrlock();
  (void)real_tryrdlock();
  (void)real_trywrlock();
  (void)real_rwlock_unlock();
}

RACETRAP_INTERPOSE RACETRAP_LOCK_PATH_CODE int pthread_rwlock_rdlock(pthread_rwlock_t* l) {
  return rwlock_lock(false, __builtin_return_address(0), real_rdlock(), l);
}

RACETRAP_INTERPOSE int pthread_rwlock_tryrdlock(pthread_rwlock_t* l) {
  return rwlock_lock_call(false, false, __builtin_return_address(0), real_tryrdlock(), l);
}

RACETRAP_INTERPOSE int pthread_rwlock_timedrdlock(pthread_rwlock_t* l, const struct timespec* abstime) {
  static auto real = next_function<TimedFn>("pthread_rwlock_timedrdlock");
  return rwlock_lock_call(false, true, __builtin_return_address(0), real, l, abstime);
}

RACETRAP_INTERPOSE int pthread_rwlock_clockrdlock(pthread_rwlock_t* l, clockid_t clock,
                                                  const struct timespec* abstime) {
  static auto real = next_function<ClockFn>("pthread_rwlock_clockrdlock");
  return rwlock_lock_call(false, true, __builtin_return_address(0), real, l, clock, abstime);
}

RACETRAP_INTERPOSE RACETRAP_LOCK_PATH_CODE int pthread_rwlock_wrlock(pthread_rwlock_t* l) {
  return rwlock_lock(true, __builtin_return_address(0), real_wrlock(), l);
}

RACETRAP_INTERPOSE int pthread_rwlock_trywrlock(pthread_rwlock_t* l) {
  return rwlock_lock_call(true, false, __builtin_return_address(0), real_trywrlock(), l);
}

RACETRAP_INTERPOSE int pthread_rwlock_timedwrlock(pthread_rwlock_t* l, const struct timespec* abstime) {
  static auto real = next_function<TimedFn>("pthread_rwlock_timedwrlock");
  return rwlock_lock_call(true, true, __builtin_return_address(0), real, l, abstime);
}

RACETRAP_INTERPOSE int pthread_rwlock_clockwrlock(pthread_rwlock_t* l, clockid_t clock,
                                                  const struct timespec* abstime) {
  static auto real = next_function<ClockFn>("pthread_rwlock_clockwrlock");
  return rwlock_lock_call(true, true, __builtin_return_address(0), real, l, clock, abstime);
}

RACETRAP_INTERPOSE RACETRAP_LOCK_PATH_CODE int pthread_rwlock_unlock(pthread_rwlock_t* l) {
  const LockFn real = real_rwlock_unlock();
  ThreadState* t = current_thread();
  if (unlock_fast_path_open(t, l)) [[likely]] return rwlock_unlock_fast(t, real, l);
  return rwlock_unlock_call(__builtin_return_address(0), real, l);
}

RACETRAP_INTERPOSE int pthread_rwlock_destroy(pthread_rwlock_t* l) {
  static auto real = next_function<LockFn>("pthread_rwlock_destroy");
  ThreadState* t = watched_thread();
  if (t == nullptr) return real(l);
  RuntimeScope scope;
  void* ret = __builtin_return_address(0);
  const bool track = lock_tracking_on(ret);
  const RwlockUse use = track ? rwlock_use(l) : RwlockUse{};
  int rc = real(l);
  if (track) report_rwlock_destroy_held(t, l, use, rc, reinterpret_cast<uint64_t>(ret));
  if (rc == 0) {
    rwlock_forget(l);
    if (track) after_lock_destroyed(t, l);
  }
  return rc;
}

}  // namespace racetrap
