// interpose_sync.cc — mutexes and condition variables as happens-before edges.
// A lock (or a wait's return) acquires the object's clock; an unlock (or a
// signal/broadcast, or the unlock inside a wait) releases into it. Normal,
// recursive, error-checking and robust mutexes go through the same calls: a lock
// that fails (EDEADLK, EBUSY, ETIMEDOUT, ENOTRECOVERABLE) acquires nothing, a
// robust lock returning EOWNERDEAD counts as locked, and an unlock that will fail
// with EPERM (not the owner, for the kinds that check) releases nothing. The real call
// runs with the thread marked in-runtime: libc's own accesses to the lock word
// are never sampled or trapped on.
// The same calls feed lock_tracking.h: the locks each thread holds, lock-order
// edges before a blocking lock (a successful trylock holds the lock but adds no
// edge: it cannot deadlock), and the misuse checks (unlock, destroy, wait, relock).
#include <pthread.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <ctime>

#include "happens_before.h"
#include "lock_fast_path.h"
#include "lock_misuse.h"
#include "lock_path_code.h"
#include "lock_tracking.h"
#include "real_function.h"

namespace racetrap {
namespace {

// EOWNERDEAD: a robust mutex whose owner died is locked by the caller.
bool locked(int rc) { return rc == 0 || rc == EOWNERDEAD; }

// pthread_mutex_lock by a thread with queued lock-order edges: when the mutex
// stays taken for 100 ms (perhaps by the very deadlock the edges predict), the
// edges go to the graph (and a cycle to the report) before the thread waits on.
// The plain lock decides the result, so the program sees what it would without.
RACETRAP_LOCK_PATH_CODE int lock_adding_edges_when_stuck(ThreadState* t, int (*real_lock)(pthread_mutex_t*), pthread_mutex_t* m) {
  static auto real_trylock = next_function<int (*)(pthread_mutex_t*)>("pthread_mutex_trylock");
  static auto real_clocklock =
      next_function<int (*)(pthread_mutex_t*, clockid_t, const struct timespec*)>("pthread_mutex_clocklock");
  // Free (the usual case): taken without reading the clock.
  if (const int rc = real_trylock(m); rc != EBUSY) return rc;
  const timespec deadline = deadline_after_ms(kStuckLockMs);
  const int rc = real_clocklock(m, CLOCK_MONOTONIC, &deadline);
  if (rc != ETIMEDOUT && rc != EINVAL) return rc;  // EINVAL: a kind the timed form does not take
  if (rc == ETIMEDOUT) {
    take_pending_stacks(t);
    add_pending_edges(t);
  }
  return real_lock(m);
}

// pthread_mutex_lock with lock tracking. A free mutex is taken first (one try)
// and its lock-order edges queued after it: between the thread's previous lock
// and this one it then runs no more than the try, the window an ABBA deadlock
// needs stays as short as it is without racetrap. A taken mutex (the try
// failed: it may block, perhaps forever) gets its edges and the self-deadlock
// check before the wait, as any blocking lock.
RACETRAP_LOCK_PATH_CODE int lock_tracking_edges(ThreadState* t, uint64_t call, int (*real_lock)(pthread_mutex_t*), pthread_mutex_t* m) {
  static auto real_trylock = next_function<int (*)(pthread_mutex_t*)>("pthread_mutex_trylock");
  if (t->held_locks.count() != 0) {
    const int rc = real_trylock(m);
    if (rc != EBUSY) {
      if (locked(rc)) before_blocking_lock(t, m, /*is_mutex=*/true, call);
      return rc;
    }
  }
  before_blocking_lock(t, m, /*is_mutex=*/true, call);
  return t->pending_edges.count() != 0 ? lock_adding_edges_when_stuck(t, real_lock, m) : real_lock(m);
}

// The fast paths of lock, trylock and unlock: the common case (the calling thread
// is watched, the program's code calls, lock tracking is on, and the thread holds no
// lock, or only the one it unlocks, with no lock-order edge queued) in one straight
// line whose only call is the real one. There is then no lock-order edge to add and
// no self-deadlock or misuse to check; what is left is what the general path does in
// that state: the held-lock entry, the edge (one id comparison when the thread's and
// the object's clocks hold the same epochs), the debug registers brought up to date
// with the board (for a blocking lock before its call). Inside the program's hold
// (after the real lock, before the real unlock) a lock runs only the id comparison
// (a trylock also the board check) and the unlock its tests.
// (The main thread's first lock takes the general path: it prepares the
// lock-order snapshot storage, which the creator prepares for every other thread.)

// The real functions, looked up on first use (an interposer may run before any
// constructor) by cached_next_function (real_function.h).
using MutexFn = int (*)(pthread_mutex_t*);
constinit std::atomic<MutexFn> g_real_lock{nullptr}, g_real_trylock{nullptr};

// pthread_mutex_unlock's real function, called without a test for "not looked up
// yet" (the test would run inside the program's hold): until the first call it
// points at unlock_looked_up, which looks the real one up, stores it and calls it.
int unlock_looked_up(pthread_mutex_t* m);
constinit std::atomic<MutexFn> g_real_unlock{&unlock_looked_up};
RACETRAP_LOCK_PATH_CODE __attribute__((noinline)) int unlock_looked_up(pthread_mutex_t* m) {
  const MutexFn fn = next_function<MutexFn>("pthread_mutex_unlock");
  g_real_unlock.store(fn, std::memory_order_relaxed);
  return fn(m);
}

// The rest of lock_fast's acquisition when the object's home entry `home` (not
// nullptr) was looked up: the join (unless the one made before the call, when
// `early_tried`, still stands: the object's content id is still `version`), the thread's debug registers,
// deferred samples allowed. Notes the object when its clock then holds the
// thread's content (`generation`: read before `home` was), for the next lock's
// shortcut. Inline: it runs inside the hold the lock starts, where a call to code
// not run yet in the process (its page's first touch) would lengthen the window a
// lock-order deadlock needs.
__attribute__((always_inline)) inline void lock_fast_join_at(Runtime& rt, ThreadState* t, pthread_mutex_t* m,
                                                             SyncClockTable::Entry* home, bool early_tried,
                                                             uint64_t version, uint64_t generation) {
  const uint64_t now = home->clock.version();
  const bool joined_early = early_tried && now == version;
  if (!joined_early) rt.sync_clocks.acquire_at(home, t->clock);
  // The same content id: the unlock has nothing to release unless the thread's
  // clock changes before it (HeldLocks::set_only_clock), and the next lock of this
  // mutex needs no lookup while the generation stands.
  const uint64_t mine = t->clock.id();
  t->held_locks.set_only_clock(now == mine ? mine : 0);
  if (now == mine && mine != 0) t->synced_objects.note(sync_key(m), generation);
  if (joined_early) mark_deferrable(t);
  else acquired_early(rt, t);
}

// A known mutex (lock_fast's shortcut) whose call outlasted the generation: some
// clock changed meanwhile, so the object's entry is looked up now, inside the hold
// (seldom: the generation moves at samples and as their epochs spread).
RACETRAP_LOCK_PATH_CODE __attribute__((noinline)) void lock_fast_generation_moved(Runtime& rt, ThreadState* t, pthread_mutex_t* m) {
  const uint64_t generation = clock_generation();
  SyncClockTable::Entry* home = rt.sync_clocks.home_entry(sync_key(m));
  if (home != nullptr) lock_fast_join_at(rt, t, m, home, /*early_tried=*/false, 0, generation);
  else acquire(rt, t, m);
}

// The rest of the blocking lock fast path after its real call returned `rc`,
// when it was not the common case (lock_fast_call): read back from the thread's
// state (ThreadState::lock_call, the held-lock entry for the mutex and the call
// site), so the common case keeps nothing in registers across the call.
RACETRAP_LOCK_PATH_CODE __attribute__((noinline)) int lock_fast_after(int rc) {
  Runtime& rt = runtime();
  ThreadState* t = current_thread();
  const ThreadState::LockCall& call = t->lock_call;
  auto* m = reinterpret_cast<pthread_mutex_t*>(t->held_locks[0].address);
  if (locked(rc)) {
    if (call.known_generation != 0) {
      lock_fast_generation_moved(rt, t, m);
    } else if (call.home != nullptr) {
      lock_fast_join_at(rt, t, m, call.home, /*early_tried=*/true, call.version, call.generation);
    } else {
      acquire(rt, t, m);
    }
  } else {
    const uint64_t ret = t->held_locks[0].pc + 1;
    t->held_locks.release_only();
    if (rc == EINVAL) report_invalid_mutex(t, m, rc, ret);
  }
  leave_runtime(t);
  return rc;
}

// The real lock, and what runs after it inside the hold it starts in the common
// case: a mutex whose clock held the thread's content at the generation that still
// stands (the load of the generation confirms it: every release into the mutex
// before its real unlock moved the generation first, so the real lock orders that
// move before this read). The thread is read again from TLS and the rest from its
// state: no callee-saved register is restored inside the hold.
__attribute__((always_inline)) inline int lock_fast_call(MutexFn real, pthread_mutex_t* m) {
  const int rc = real(m);
  ThreadState* t = current_thread();
  if (rc == 0 && clock_generation() == t->lock_call.known_generation) [[likely]] {
    fast_leave_deferrable(t);
    return 0;
  }
  return lock_fast_after(rc);
}

// lock_fast for a mutex not known to hold the thread's content (`generation`: the
// clock generation lock_fast read): its home entry is found and joined before the
// hold (a first touch's page fault with it), and checked after it.
RACETRAP_LOCK_PATH_CODE __attribute__((noinline)) int lock_fast_unknown(Runtime& rt, ThreadState* t, MutexFn real, pthread_mutex_t* m,
                                                uint64_t generation) {
  ThreadState::LockCall& call = t->lock_call;
  call.known_generation = 0;
  call.generation = generation;
  call.home = rt.sync_clocks.home_entry(sync_key(m));
  if (call.home != nullptr) {
    call.version = rt.sync_clocks.acquire_early_at(call.home, t->clock);
    sync_watches(rt, t);
  }
  return lock_fast_call(real, m);
}

// lock_fast when the board changed since the thread last armed: its debug registers
// are brought up to date before the call (an arm's ioctl runs before the hold, not in it).
RACETRAP_LOCK_PATH_CODE __attribute__((noinline)) int lock_fast_arming(ThreadState* t, MutexFn real, pthread_mutex_t* m) {
  sync_debug_registers(*t);
  return lock_fast_call(real, m);
}

// What the lock and trylock fast paths do first: enter racetrap and write the
// held-lock entry before the call, not inside the hold it starts (what runs between
// the real lock and the real unlock is what another thread waiting for the mutex
// waits for); a call that fails takes it back. Nothing reads it in between: a sample
// while the thread is inside the call (in runtime, not yet deferrable) is dropped.
// Returns whether the mutex's clock held the thread's content at the clock
// generation that still stands, read into `generation`. Then the unlock has
// nothing to release unless the thread's clock changes before it: the entry
// records the clock's content id (HeldLocks::set_only_clock; not 0, since the note
// was made with an id and ids, too, move the generation), written now, outside the
// hold (lock_fast_generation_moved writes it again when the generation moves
// during the call).
__attribute__((always_inline)) inline bool begin_fast_lock(ThreadState* t, void* ret, pthread_mutex_t* m,
                                                           uint64_t& generation) {
  fast_enter(t);
  generation = clock_generation();
  const bool known = t->synced_objects.knows(sync_key(m), generation);
  t->held_locks.push_into_empty(reinterpret_cast<uint64_t>(m), reinterpret_cast<uint64_t>(ret) - 1,
                                HeldMode::kMutex, known ? t->clock.id() : HeldLocks::kNoClock);
  return known;
}

// pthread_mutex_lock's fast path. The join is made before the call and only
// checked after it (SyncClockTable::acquire_early), so that the hold this lock
// starts, the window a lock-order deadlock needs, holds no join. The common case (a
// known mutex, the board unchanged) is inline and calls only the real lock: the
// interposer then saves no register it would restore inside the hold.
__attribute__((always_inline)) inline int lock_fast(Runtime& rt, ThreadState* t, void* ret, MutexFn real,
                                                    pthread_mutex_t* m) {
  // A mutex whose clock this thread saw hold its own content, at the generation
  // that still holds (synced_objects.h), has nothing to join: the sync table is
  // not read (its entry's loads, a chain, delay the real lock's atomic instruction).
  uint64_t generation;
  if (!begin_fast_lock(t, ret, m, generation)) [[unlikely]] return lock_fast_unknown(rt, t, real, m, generation);
  t->lock_call.known_generation = generation;
  if (rt.board.version() != t->board_version_seen) [[unlikely]] return lock_fast_arming(t, real, m);
  return lock_fast_call(real, m);
}

// pthread_mutex_trylock's fast path: a trylock, which may fail, joins after its
// call (after a failed try an early join would order the thread after releases it
// never acquired).
__attribute__((always_inline)) inline int trylock_fast(Runtime& rt, ThreadState* t, void* ret, MutexFn real,
                                                       pthread_mutex_t* m) {
  uint64_t generation;
  const bool known = begin_fast_lock(t, ret, m, generation);
  SyncClockTable::Entry* home = known ? nullptr : rt.sync_clocks.home_entry(sync_key(m));
  const int rc = real(m);
  if (locked(rc)) [[likely]] {
    if (known) [[likely]] {
      if (clock_generation() == generation) [[likely]] acquired_early(rt, t);
      else lock_fast_generation_moved(rt, t, m);
    } else if (home != nullptr) {
      lock_fast_join_at(rt, t, m, home, /*early_tried=*/false, 0, generation);
    } else {
      acquire(rt, t, m);
    }
  } else {
    t->held_locks.release_only();
    if (rc == EINVAL) report_invalid_mutex(t, m, rc, reinterpret_cast<uint64_t>(ret));
  }
  leave_runtime(t);
  return rc;
}

// `blocking`: lock, timedlock, clocklock (lock-order edges and the self-deadlock
// check come first, since the real call may never return); trylock is not.
// `ret`: the interposer's return address, the program's call site. `taken`: the
// result of a try the caller already made (lock_nested_try), or kNotTried.
constexpr int kNotTried = -1;
template <typename Fn, typename... Args>
RACETRAP_LOCK_PATH_CODE __attribute__((noinline)) int lock_call_slow(Runtime& rt, ThreadState* t, bool blocking, void* ret, int taken,
                                             Fn real, pthread_mutex_t* m, Args... args) {
  RuntimeScope scope(t);
  const bool track = lock_tracking_on(rt, ret);
  const uint64_t call = reinterpret_cast<uint64_t>(ret);
  if (track) before_lock(rt, t);
  // A lock taken while the thread holds none opens the window a lock-order
  // deadlock needs (until its next lock is taken): its acquire joins the mutex's
  // clock before the call (acquire_early), and after it only checks that no
  // release came in between, so the window holds no join. Only the plain blocking
  // lock, which fails only on a misused mutex: after a failed trylock or a timed
  // out wait the early join would order the thread after releases it never
  // acquired. Otherwise, with nothing held, the clock's page is faulted in now
  // rather than inside the hold.
  const bool nothing_held = t->held_locks.count() == 0;
  const bool early = nothing_held && blocking && sizeof...(Args) == 0;
  uint64_t version = SyncClockTable::kNoVersion;
  if (early) {
    version = join_before_lock(rt, t, m);
    sync_watches(rt, t);
  } else if (nothing_held) {
    rt.sync_clocks.touch(sync_key(m));
  }
  int rc;
  if (taken != kNotTried) {  // a nested lock, taken by lock_nested_try: its edges now
    rc = taken;
    if (track && locked(rc)) before_blocking_lock(t, m, /*is_mutex=*/true, call);
  } else if constexpr (sizeof...(Args) == 0) {  // lock (blocking, without a deadline) or trylock
    rc = track && blocking ? lock_tracking_edges(t, call, real, m) : real(m);
  } else {
    if (track && blocking) before_blocking_lock(t, m, /*is_mutex=*/true, call);
    rc = real(m, args...);
  }
  if (track) after_lock_call(t);
  // lock and trylock fail with EINVAL only on memory that is no mutex (the timed
  // forms also on a bad timeout).
  if (rc == EINVAL && track && sizeof...(Args) == 0) report_invalid_mutex(t, m, rc, call);
  if (locked(rc)) {
    // Held-lock bookkeeping first: acquire() allows deferred samples, and a sample
    // taken between the two must already list this lock as held.
    if (track) after_lock(t, m, HeldMode::kMutex, call);
    if (early && joined_before_lock(rt, m, version)) mark_deferrable(t);
    else acquire(rt, t, m);
  }
  return rc;
}

template <typename Fn, typename... Args>
RACETRAP_LOCK_PATH_CODE int lock_call(bool blocking, void* ret, Fn real, pthread_mutex_t* m, Args... args) {
  Runtime& rt = runtime();
  ThreadState* t = watched_thread(rt);
  if (t == nullptr) return real(m, args...);
  return lock_call_slow(rt, t, blocking, ret, kNotTried, real, m, args...);
}

// pthread_mutex_lock by a thread that holds other locks (fast_path_thread's tests
// passed): from its previous lock to this one runs the window an ABBA deadlock
// needs, so the mutex is taken (or tried) before anything else, by code inlined in
// the interposer (the lines its previous lock just ran), and the bookkeeping
// follows. Taken (or failed outright), the general path records it after the
// fact; busy, it runs as for any blocking lock (edges and the self-deadlock check
// before the wait).
// A mutex whose lock word reads 0 is free for every kind whose word holds only
// the lock state or the owner (normal, adaptive, recursive, error-checking, robust,
// priority-inheritance), and is then taken with the real lock: the very call the
// program makes, warm from the thread's previous lock, where a try runs libc code
// no lock of the process may have run yet (a fresh thread's first nested lock
// spent ~0.2 us more of the window in cold code). Another thread taking it in the
// instructions between the read and the real lock's compare-and-swap makes that
// lock wait with its edges recorded after the wait rather than before: as a real
// deadlock needs the mutex held before this thread arrives, it is then seen busy.
// A non-zero word (held, or a priority-protect mutex's ceiling) is tried instead.
__attribute__((always_inline)) inline int lock_nested_try(ThreadState* t, MutexFn real, pthread_mutex_t* m) {
  fast_enter(t);  // stays inside racetrap until lock_nested is done
  __builtin_prefetch(m, 1);  // the real lock writes the line: fetch it for writing once
  if (__atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED) == 0) [[likely]] return real(m);
  return cached_next_function(g_real_trylock, "pthread_mutex_trylock")(m);
}

// A nested lock: lock_nested_try, then the bookkeeping. Its own function, so that
// pthread_mutex_lock's fast path keeps no register across its real call.
RACETRAP_LOCK_PATH_CODE __attribute__((noinline)) int lock_nested(Runtime& rt, ThreadState* t, void* ret, MutexFn real, pthread_mutex_t* m) {
  const int tried = lock_nested_try(t, real, m);
  const int rc = lock_call_slow(rt, t, true, ret, tried == EBUSY ? kNotTried : tried, real, m);
  leave_runtime(t);
  return rc;
}

// glibc (NPTL) mutex kinds whose unlock checks the owner and fails with EPERM:
// recursive, error-checking, robust, priority-inheritance, priority-protect.
constexpr int kKindMask = 3, kRecursive = 1, kErrorCheck = 2, kOwnerCheckedBits = 16 | 32 | 64;

// Whether unlocking `m` from this thread fails with EPERM (then it creates no edge).
// Reads glibc's mutex fields: only the kinds that check the owner are judged.
RACETRAP_LOCK_PATH_CODE bool unlock_will_fail(const pthread_mutex_t* m, const ThreadState* t) {
  const int kind = m->__data.__kind;
  if (kind == 0) return false;  // a default (normal) mutex: one test for the most common kind
  const bool checks_owner = (kind & kKindMask) == kRecursive || (kind & kKindMask) == kErrorCheck ||
                            (kind & kOwnerCheckedBits) != 0;
  if (!checks_owner) return false;
  const int owner = __atomic_load_n(&m->__data.__owner, __ATOMIC_RELAXED);
  return static_cast<uint32_t>(owner) != t->os_tid;
}

// A condition wait: releases the mutex, waits, then acquires the condition
// (what signallers released) and the mutex again.
// The mutex stays held, as far as lock tracking is concerned: libc unlocks and
// relocks it inside the call.
template <typename Fn, typename... Args>
int wait_call(void* ret, Fn real, pthread_cond_t* cond, pthread_mutex_t* mutex, Args... args) {
  ThreadState* t = watched_thread();
  if (t == nullptr) return real(cond, mutex, args...);
  RuntimeScope scope;
  const bool track = lock_tracking_on(ret);
  if (track) {
    before_cond_wait(t, mutex, reinterpret_cast<uint64_t>(ret));
    cond_wait_begin(t, cond, mutex, reinterpret_cast<uint64_t>(ret));
  }
  // The wait ends on return and on cancellation (which unwinds through here).
  struct WaitEnd {
    const pthread_cond_t* cond;
    ~WaitEnd() {
      if (cond != nullptr) cond_wait_end(cond);
    }
  } wait_end{track ? cond : nullptr};
  release(t, mutex);
  int rc = real(cond, mutex, args...);
  join_from(t, cond);
  acquire(t, mutex);
  return rc;
}

// pthread_mutex_unlock in general: the held-lock and misuse checks, the release.
RACETRAP_LOCK_PATH_CODE __attribute__((noinline)) int unlock_slow(Runtime& rt, ThreadState* t, bool track, void* ret,
                                          int (*real)(pthread_mutex_t*), pthread_mutex_t* m) {
  RuntimeScope scope(t);
  UnlockCheck check;
  if (track) check = before_mutex_unlock(t, m);
  if (!unlock_will_fail(m, t)) release(rt, t, m);
  mark_deferrable(t);
  const int rc = real(m);
  if (track) after_unlock(t);
  // An unlock of a mutex the thread does not hold: reported after the call, with
  // what it returned (once per call site: a stack capture the first time only).
  if (check.suspect) after_mutex_unlock(t, m, check, rc, reinterpret_cast<uint64_t>(ret));
  return rc;
}

// The unlock fast path when the thread's clock changed since the acquisition (a
// sample ticked it): what it knows now is released into the mutex's clock.
RACETRAP_LOCK_PATH_CODE __attribute__((noinline)) int unlock_fast_releasing(ThreadState* t, MutexFn real, pthread_mutex_t* m) {
  fast_enter(t);
  t->held_locks.release_only();
  if (!unlock_will_fail(m, t)) release(runtime(), t, m);
  mark_deferrable(t);
  const int rc = real(m);
  leave_runtime(t);
  return rc;
}

// The unlock fast path: what unlock_slow does when the thread holds only `m`, once,
// and has no lock-order edge queued (nothing to check, nothing to add after). A
// clock unchanged since the acquisition, whose content the lock's clock held then,
// has nothing to add to it: the table is not looked at (its lookup, a chain of
// dependent loads, delays the real unlock's atomic instruction), and before the
// real call only the thread's own words are written. Deferred samples are allowed
// at once (no acquire is to come), before the in-runtime mark. The thread is read
// again from TLS after the call: no callee-saved register is kept across it.
__attribute__((always_inline)) inline int unlock_fast(ThreadState* t, MutexFn real, pthread_mutex_t* m) {
  if (!t->held_locks.only_clock_unchanged(t->clock.id())) return unlock_fast_releasing(t, real, m);
  t->held_locks.release_only();
  runtime_marks::set(t, 1, kDeferrable);  // in runtime and deferrable (no acquire is to come) with one store
  const int rc = real(m);
  // Deferrable all along (no tick was postponed): in_runtime back to 0 with the same store.
  runtime_marks::set(current_thread(), 0, kDeferrable);
  return rc;
}

// pthread_mutex_unlock outside the fast path.
RACETRAP_LOCK_PATH_CODE __attribute__((noinline)) int unlock_call(void* ret, MutexFn real, pthread_mutex_t* m) {
  Runtime& rt = runtime();
  ThreadState* t = watched_thread(rt);
  if (t == nullptr) return real(m);
  return unlock_slow(rt, t, lock_tracking_on(rt, ret), ret, real, m);
}

// pthread_mutex_lock before its real function was looked up (out of line: the
// lookup is a call, which would make the interposer keep registers across it).
RACETRAP_LOCK_PATH_CODE __attribute__((noinline)) int lock_first_call(void* ret, pthread_mutex_t* m) {
  return lock_call(true, ret, cached_next_function(g_real_lock, "pthread_mutex_lock"), m);
}

constexpr const char* kCondVersion = "GLIBC_2.3.2";  // the current pthread_cond_* ABI

}  // namespace

RACETRAP_INTERPOSE RACETRAP_LOCK_PATH_CODE int pthread_mutex_lock(pthread_mutex_t* m) {
  void* ret = __builtin_return_address(0);
  const MutexFn real = g_real_lock.load(std::memory_order_relaxed);
  if (real == nullptr) [[unlikely]] return lock_first_call(ret, m);
  Runtime& rt = runtime();
  ThreadState* t = fast_path_thread(rt, ret);
  if (t != nullptr) [[likely]] {
    if (lock_fast_path_open(t)) [[likely]] return lock_fast(rt, t, ret, real, m);
    if (t->held_locks.count() != 0) return lock_nested(rt, t, ret, real, m);
  }
  return lock_call(true, ret, real, m);
}

RACETRAP_INTERPOSE RACETRAP_LOCK_PATH_CODE int pthread_mutex_trylock(pthread_mutex_t* m) {
  const MutexFn real = cached_next_function(g_real_trylock, "pthread_mutex_trylock");
  void* ret = __builtin_return_address(0);
  Runtime& rt = runtime();
  ThreadState* t = fast_path_thread(rt, ret);
  if (t != nullptr && lock_fast_path_open(t)) [[likely]] return trylock_fast(rt, t, ret, real, m);
  return lock_call(false, ret, real, m);
}

RACETRAP_INTERPOSE int pthread_mutex_timedlock(pthread_mutex_t* m, const struct timespec* abstime) {
  static auto real = next_function<int (*)(pthread_mutex_t*, const struct timespec*)>("pthread_mutex_timedlock");
  return lock_call(true, __builtin_return_address(0), real, m, abstime);
}

RACETRAP_INTERPOSE int pthread_mutex_clocklock(pthread_mutex_t* m, clockid_t clock, const struct timespec* abstime) {
  static auto real =
      next_function<int (*)(pthread_mutex_t*, clockid_t, const struct timespec*)>("pthread_mutex_clocklock");
  return lock_call(true, __builtin_return_address(0), real, m, clock, abstime);
}

RACETRAP_INTERPOSE RACETRAP_LOCK_PATH_CODE int pthread_mutex_unlock(pthread_mutex_t* m) {
  const MutexFn real = g_real_unlock.load(std::memory_order_relaxed);
  ThreadState* t = current_thread();
  if (unlock_fast_path_open(t, m)) [[likely]] return unlock_fast(t, real, m);
  return unlock_call(__builtin_return_address(0), real, m);
}

RACETRAP_INTERPOSE int pthread_mutex_destroy(pthread_mutex_t* m) {
  static auto real = next_function<int (*)(pthread_mutex_t*)>("pthread_mutex_destroy");
  ThreadState* t = watched_thread();
  if (t == nullptr) return real(m);
  RuntimeScope scope;
  void* ret = __builtin_return_address(0);
  const bool track = lock_tracking_on(ret);
  if (track) before_mutex_destroy(t, m, reinterpret_cast<uint64_t>(ret));
  int rc = real(m);
  if (rc == 0) {
    runtime().sync_clocks.forget(sync_key(m));
    if (track) after_lock_destroyed(t, m);
  }
  return rc;
}

RACETRAP_INTERPOSE int pthread_cond_wait(pthread_cond_t* c, pthread_mutex_t* m) {
  static auto real = next_function<int (*)(pthread_cond_t*, pthread_mutex_t*)>("pthread_cond_wait", kCondVersion);
  return wait_call(__builtin_return_address(0), real, c, m);
}

RACETRAP_INTERPOSE int pthread_cond_timedwait(pthread_cond_t* c, pthread_mutex_t* m, const struct timespec* abstime) {
  static auto real = next_function<int (*)(pthread_cond_t*, pthread_mutex_t*, const struct timespec*)>(
      "pthread_cond_timedwait", kCondVersion);
  return wait_call(__builtin_return_address(0), real, c, m, abstime);
}

RACETRAP_INTERPOSE int pthread_cond_clockwait(pthread_cond_t* c, pthread_mutex_t* m, clockid_t clock,
                                              const struct timespec* abstime) {
  static auto real = next_function<int (*)(pthread_cond_t*, pthread_mutex_t*, clockid_t, const struct timespec*)>(
      "pthread_cond_clockwait");
  return wait_call(__builtin_return_address(0), real, c, m, clock, abstime);
}

RACETRAP_INTERPOSE int pthread_cond_destroy(pthread_cond_t* c) {
  static auto real = next_function<int (*)(pthread_cond_t*)>("pthread_cond_destroy", kCondVersion);
  ThreadState* t = watched_thread();
  if (t == nullptr) return real(c);
  RuntimeScope scope;
  void* ret = __builtin_return_address(0);
  if (lock_tracking_on(ret)) before_cond_destroy(t, c, reinterpret_cast<uint64_t>(ret));
  return real(c);
}

RACETRAP_INTERPOSE int pthread_cond_signal(pthread_cond_t* c) {
  static auto real = next_function<int (*)(pthread_cond_t*)>("pthread_cond_signal", kCondVersion);
  return release_call(c, real, c);
}

RACETRAP_INTERPOSE int pthread_cond_broadcast(pthread_cond_t* c) {
  static auto real = next_function<int (*)(pthread_cond_t*)>("pthread_cond_broadcast", kCondVersion);
  return release_call(c, real, c);
}

}  // namespace racetrap
