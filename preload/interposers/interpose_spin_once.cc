// interpose_spin_once.cc — pthread spinlocks and pthread_once as happens-before
// edges.
// Spinlocks: a successful lock or trylock acquires the lock's clock, an unlock
// releases into it (the same model as mutexes). They are held locks and take
// part in the lock-order graph like mutexes (lock_tracking.h): a lock adds its
// edges (a nested lock that is free after taking it, a busy one before waiting), a
// successful trylock adds none. A lock by a thread that holds none, and the unlock
// of the one it holds, take fast paths (lock_fast_path.h); the paths a thread's
// first locks run are made ready by its creator (lock_path_code.h).
// pthread_once (C++ std::call_once goes through it, with libstdc++'s
// __once_proxy as the routine): the thread that runs the init routine releases
// into the once_control's clock when the routine returns; every return of
// pthread_once, in every thread, acquires it. So the initializer's effects
// happen-before everything after any pthread_once call on the same control. The
// init routine itself is the program's code: it runs outside the RuntimeScope.
#include <pthread.h>

#include <atomic>
#include <cerrno>

#include "happens_before.h"
#include "lock_fast_path.h"
#include "lock_path_code.h"
#include "lock_tracking.h"
#include "real_function.h"

namespace racetrap {
namespace {

using SpinFn = int (*)(pthread_spinlock_t*);

// The real spin-lock functions (cached_next_function: no function-local static,
// whose guard lines up two threads' first calls).
constinit std::atomic<SpinFn> g_real_spin_lock{nullptr}, g_real_spin_trylock{nullptr}, g_real_spin_unlock{nullptr};
SpinFn real_spin_lock() { return cached_next_function(g_real_spin_lock, "pthread_spin_lock"); }
SpinFn real_spin_trylock() { return cached_next_function(g_real_spin_trylock, "pthread_spin_trylock"); }
SpinFn real_spin_unlock() { return cached_next_function(g_real_spin_unlock, "pthread_spin_unlock"); }

// pthread_spinlock_t is a volatile int: its address as a sync key.
const void* spin_key(pthread_spinlock_t* l) { return const_cast<const int*>(l); }

// Whether the spin lock's word reads free. glibc's x86-64 spin lock is a counter:
// 1 when free (pthread_spin_init and the unlock store 1), the lock decrements it
// and holds the lock when that reached 0, a waiter spins until it reads positive.
// (A hint, read without ordering: the real lock or try decides.)
bool spin_looks_free(const pthread_spinlock_t* l) { return __atomic_load_n(l, __ATOMIC_RELAXED) > 0; }

// pthread_spin_lock by a thread with queued lock-order edges: as
// lock_adding_edges_when_stuck (interpose_sync.cc), a spin lock that stays taken for
// kStuckLockMs (perhaps by the very deadlock the edges predict, in which the thread
// would spin forever) gets the edges into the graph, and a cycle into the report.
// Until then the thread spins on reads of the lock word and tries when it reads
// free (spin_looks_free), as libc's spin lock does; after, libc's spin lock goes on.
int spin_adding_edges_when_stuck(ThreadState* t, SpinFn real_lock, SpinFn real_try, pthread_spinlock_t* l) {
  const uint64_t deadline = monotonic_ns() + static_cast<uint64_t>(kStuckLockMs) * 1'000'000;
  do {
    for (int spins = 0; spins < 4096; ++spins) {
      if (spin_looks_free(l) && real_try(l) == 0) return 0;
      __builtin_ia32_pause();
    }
  } while (monotonic_ns() < deadline);
  take_pending_stacks(t);
  add_pending_edges(t);
  return real_lock(l);
}

// `taken`: the result of a try the caller already made (spin_lock_nested), or kNotTried.
constexpr int kNotTried = -1;

// pthread_spin_lock (`blocking`) or trylock by the watched thread `t`; `ret`: the
// program's call site.
__attribute__((noinline)) int spin_lock_call_slow(Runtime& rt, ThreadState* t, bool blocking, void* ret, int taken,
                                                  SpinFn real, pthread_spinlock_t* l) {
  RuntimeScope scope(t);
  const bool track = lock_tracking_on(rt, ret);
  const uint64_t call = reinterpret_cast<uint64_t>(ret);
  // A lock by a thread that holds others tries the spin lock before its edges are
  // queued (interpose_sync.cc, lock_nested_try); busy, the edges come first.
  int tried = taken;
  if (tried == kNotTried) tried = blocking && track && t->held_locks.count() != 0 ? real_spin_trylock()(l) : EBUSY;
  if (track) before_lock(rt, t);
  // Edges are queued before the real call and their stack taken right after it;
  // the graph is updated once the thread holds no lock (lock_tracking.h).
  if (track && blocking) before_blocking_lock(t, spin_key(l), /*is_mutex=*/false, call);
  // Holding no lock: joined before the call (happens_before.h), nothing inside the hold.
  const bool early = blocking && t->held_locks.count() == 0;
  uint64_t version = SyncClockTable::kNoVersion;
  if (early) {
    version = join_before_lock(rt, t, spin_key(l));
    sync_watches(rt, t);
  }
  int rc;
  if (tried != EBUSY) rc = tried;
  else if (blocking && t->pending_edges.count() != 0)
    rc = spin_adding_edges_when_stuck(t, real, real_spin_trylock(), l);
  else rc = real(l);
  if (track) after_lock_call(t);
  if (rc == 0) {
    if (track) after_lock(t, spin_key(l), HeldMode::kSpin, call);  // before acquire(): see interpose_sync.cc
    if (early && joined_before_lock(rt, spin_key(l), version)) mark_deferrable(t);
    else acquire(rt, t, spin_key(l));
  }
  return rc;
}

int spin_lock_call(bool blocking, void* ret, SpinFn real, pthread_spinlock_t* l) {
  Runtime& rt = runtime();
  ThreadState* t = watched_thread(rt);
  if (t == nullptr) return real(l);
  return spin_lock_call_slow(rt, t, blocking, ret, kNotTried, real, l);
}

int spin_lock_nested(Runtime& rt, ThreadState* t, void* ret, SpinFn real, pthread_spinlock_t* l);

// The fast path of pthread_spin_lock by a thread that holds no lock, with no
// lock-order edge queued (lock_fast_path.h): what spin_lock_call_slow does then,
// without its lock-tracking calls, which have nothing to do in that state. The
// held-lock entry is written and the lock's clock joined before the call (the hold
// it starts, the window a lock-order deadlock needs, holds no join), and after it
// only the clock generation is read while it stands (early_join_stands); the
// nested path's code is fetched before the call (prefetch_code).
RACETRAP_LOCK_PATH_CODE __attribute__((noinline)) int spin_lock_fast(Runtime& rt, ThreadState* t, void* ret,
                                                                     SpinFn real, pthread_spinlock_t* l) {
  fast_enter(t);
  t->held_locks.push_into_empty(reinterpret_cast<uint64_t>(spin_key(l)), reinterpret_cast<uint64_t>(ret) - 1,
                                HeldMode::kSpin);
  const uint64_t version = join_before_lock(rt, t, spin_key(l));
  sync_watches(rt, t);
  prefetch_code(reinterpret_cast<const void*>(&spin_lock_nested), 3);
  const uint64_t generation = clock_generation();
  const int rc = real(l);
  if (rc == 0) {
    if (early_join_stands(rt, spin_key(l), version, generation)) mark_deferrable(t);
    else acquire(rt, t, spin_key(l));
  } else {
    t->held_locks.release_only();
  }
  leave_runtime(t);
  return rc;
}

// pthread_spin_lock by a thread that holds other locks (fast_path_thread's tests
// passed): from its previous lock to this one runs the window an ABBA deadlock
// needs, so the spin lock is taken (or tried) first, as a nested mutex is
// (interpose_sync.cc, lock_nested_try): one that looks free (spin_looks_free) with the
// real lock, the very call the thread's previous lock ran (warm, where the try's
// code may be run by no lock of the process yet), a busy one with a try. Taken,
// the general path records it after the fact; busy, it queues the edges before
// spinning, as for any blocking lock. Another thread taking the lock between the
// read and the real lock's exchange makes this thread spin with its edges queued
// after the wait rather than before: as a real deadlock needs the lock held before
// this thread arrives, it is then seen busy.
RACETRAP_LOCK_PATH_CODE __attribute__((noinline)) int spin_lock_nested(Runtime& rt, ThreadState* t, void* ret,
                                                                       SpinFn real, pthread_spinlock_t* l) {
  fast_enter(t);  // stays inside racetrap until the bookkeeping is done
  __builtin_prefetch(const_cast<int*>(l), 1);  // the real lock writes the line: fetch it for writing once
  const int tried = spin_looks_free(l) ? real(l) : real_spin_trylock()(l);
  const int rc = spin_lock_call_slow(rt, t, true, ret, tried == EBUSY ? kNotTried : tried, real, l);
  leave_runtime(t);
  return rc;
}

// The unlock of the one spin lock the thread holds, taken by spin_lock_fast, with
// no lock-order edge queued (lock_fast_path.h): nothing to check, nothing to add
// after; the release skips the sync table when it would change nothing
// (happens_before.h).
RACETRAP_LOCK_PATH_CODE __attribute__((noinline)) int spin_unlock_fast(Runtime& rt, ThreadState* t, SpinFn real,
                                                                       pthread_spinlock_t* l) {
  fast_enter(t);
  t->held_locks.release_only();
  release(rt, t, spin_key(l));
  mark_deferrable(t);
  const int rc = real(l);
  leave_runtime(t);
  return rc;
}

// pthread_spin_unlock outside the fast path; `ret`: the program's call site.
__attribute__((noinline)) int spin_unlock_call(Runtime& rt, void* ret, SpinFn real, pthread_spinlock_t* l) {
  ThreadState* t = watched_thread(rt);
  if (t == nullptr) return real(l);
  RuntimeScope scope(t);
  const bool track = lock_tracking_on(rt, ret);
  if (track) before_rwlock_unlock(t, spin_key(l));
  release(rt, t, spin_key(l));
  mark_deferrable(t);
  const int rc = real(l);
  if (track) after_unlock(t);
  return rc;
}

// The pthread_once call in progress in this thread (its routine runs on this
// thread, from inside the real pthread_once). Saved and restored around nested
// calls (an init routine that itself calls pthread_once).
struct OnceCall {
  pthread_once_t* control;
  void (*routine)();
  ThreadState* thread;
};
__attribute__((tls_model("initial-exec"))) thread_local OnceCall* current_once = nullptr;

// Leaves racetrap's code for the program's, and comes back (even by an exception
// thrown out of a C++ call_once callable).
class ProgramScope {
 public:
  explicit ProgramScope(ThreadState* t) : t_(t) { leave_runtime(t_); }
  ~ProgramScope() { enter_runtime(t_); }
  ProgramScope(const ProgramScope&) = delete;
  ProgramScope& operator=(const ProgramScope&) = delete;

 private:
  ThreadState* t_;
};

void once_trampoline() {
  OnceCall* call = current_once;
  {
    ProgramScope program(call->thread);
    call->routine();
  }
  release(call->thread, call->control);
}

}  // namespace

void resolve_spin_lock_functions() {
  (void)real_spin_lock();
  (void)real_spin_trylock();
  (void)real_spin_unlock();
}

RACETRAP_INTERPOSE RACETRAP_LOCK_PATH_CODE int pthread_spin_lock(pthread_spinlock_t* l) {
  void* ret = __builtin_return_address(0);
  const SpinFn real = real_spin_lock();
  Runtime& rt = runtime();
  ThreadState* t = fast_path_thread(rt, ret);
  if (t != nullptr) [[likely]] {
    if (lock_fast_path_open(t)) [[likely]] return spin_lock_fast(rt, t, ret, real, l);
    if (t->held_locks.count() != 0) return spin_lock_nested(rt, t, ret, real, l);
  }
  return spin_lock_call(true, ret, real, l);
}

RACETRAP_INTERPOSE int pthread_spin_trylock(pthread_spinlock_t* l) {
  return spin_lock_call(false, __builtin_return_address(0), real_spin_trylock(), l);
}

RACETRAP_INTERPOSE RACETRAP_LOCK_PATH_CODE int pthread_spin_unlock(pthread_spinlock_t* l) {
  const SpinFn real = real_spin_unlock();
  Runtime& rt = runtime();
  ThreadState* t = current_thread();
  if (unlock_fast_path_open(t, spin_key(l))) [[likely]] return spin_unlock_fast(rt, t, real, l);
  return spin_unlock_call(rt, __builtin_return_address(0), real, l);
}

RACETRAP_INTERPOSE int pthread_spin_destroy(pthread_spinlock_t* l) {
  static auto real = next_function<SpinFn>("pthread_spin_destroy");
  int rc = real(l);
  if (rc == 0) {
    if (ThreadState* t = watched_thread()) {
      RuntimeScope scope;
      runtime().sync_clocks.forget(sync_key(spin_key(l)));
      if (lock_tracking_on(__builtin_return_address(0))) after_lock_destroyed(t, spin_key(l));
    }
  }
  return rc;
}

RACETRAP_INTERPOSE int pthread_once(pthread_once_t* control, void (*routine)()) {
  static auto real = next_function<int (*)(pthread_once_t*, void (*)())>("pthread_once");
  ThreadState* t = watched_thread();
  if (t == nullptr) return real(control, routine);
  RuntimeScope scope;
  OnceCall call{control, routine, t};
  OnceCall* outer = current_once;
  current_once = &call;
  struct Restore {
    OnceCall* outer;
    ~Restore() { current_once = outer; }
  } restore{outer};
  int rc = real(control, once_trampoline);
  if (rc == 0) acquire(t, control);
  return rc;
}

}  // namespace racetrap
