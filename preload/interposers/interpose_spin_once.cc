// interpose_spin_once.cc — pthread spinlocks and pthread_once as happens-before
// edges.
// Spinlocks: a successful lock or trylock acquires the lock's clock, an unlock
// releases into it (the same model as mutexes). They are held locks and take
// part in the lock-order graph like mutexes (lock_tracking.h): a lock adds its
// edges (a nested lock that is free after its try, a busy one before waiting), a
// successful trylock adds none.
// pthread_once (C++ std::call_once goes through it, with libstdc++'s
// __once_proxy as the routine): the thread that runs the init routine releases
// into the once_control's clock when the routine returns; every return of
// pthread_once, in every thread, acquires it. So the initializer's effects
// happen-before everything after any pthread_once call on the same control. The
// init routine itself is the program's code: it runs outside the RuntimeScope.
#include <pthread.h>

#include "happens_before.h"
#include "lock_tracking.h"
#include "real_function.h"

namespace racetrap {
namespace {

using SpinFn = int (*)(pthread_spinlock_t*);

// pthread_spinlock_t is a volatile int: its address as a sync key.
const void* spin_key(pthread_spinlock_t* l) { return const_cast<const int*>(l); }

// pthread_spin_lock by a thread with queued lock-order edges: as
// lock_adding_edges_when_stuck (interpose_sync.cc), a spin lock that stays taken for
// kStuckLockMs (perhaps by the very deadlock the edges predict, in which the thread
// would spin forever) gets the edges into the graph, and a cycle into the report.
// Until then the thread spins on reads of the lock word and tries when it reads
// free, as libc's spin lock does; after, libc's spin lock goes on.
int spin_adding_edges_when_stuck(ThreadState* t, SpinFn real_lock, SpinFn real_try, pthread_spinlock_t* l) {
  const uint64_t deadline = monotonic_ns() + static_cast<uint64_t>(kStuckLockMs) * 1'000'000;
  do {
    for (int spins = 0; spins < 4096; ++spins) {
      if (*l == 0 && real_try(l) == 0) return 0;
      __builtin_ia32_pause();
    }
  } while (monotonic_ns() < deadline);
  take_pending_stacks(t);
  add_pending_edges(t);
  return real_lock(l);
}

// pthread_spin_lock (`blocking`) or trylock; `ret`: the program's call site.
int spin_lock_call(bool blocking, void* ret, SpinFn real, pthread_spinlock_t* l) {
  Runtime& rt = runtime();
  ThreadState* t = watched_thread(rt);
  if (t == nullptr) return real(l);
  RuntimeScope scope(t);
  const bool track = lock_tracking_on(rt, ret);
  const uint64_t call = reinterpret_cast<uint64_t>(ret);
  // A lock by a thread that holds others tries the spin lock before its edges are
  // queued (interpose_sync.cc, lock_nested_try); busy, the edges come first.
  static auto real_try = next_function<SpinFn>("pthread_spin_trylock");
  const int tried = blocking && track && t->held_locks.count() != 0 ? real_try(l) : EBUSY;
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
  else if (blocking && t->pending_edges.count() != 0) rc = spin_adding_edges_when_stuck(t, real, real_try, l);
  else rc = real(l);
  if (track) after_lock_call(t);
  if (rc == 0) {
    if (track) after_lock(t, spin_key(l), HeldMode::kSpin, call);  // before acquire(): see interpose_sync.cc
    if (early && joined_before_lock(rt, spin_key(l), version)) mark_deferrable(t);
    else acquire(rt, t, spin_key(l));
  }
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

RACETRAP_INTERPOSE int pthread_spin_lock(pthread_spinlock_t* l) {
  static auto real = next_function<SpinFn>("pthread_spin_lock");
  return spin_lock_call(true, __builtin_return_address(0), real, l);
}

RACETRAP_INTERPOSE int pthread_spin_trylock(pthread_spinlock_t* l) {
  static auto real = next_function<SpinFn>("pthread_spin_trylock");
  return spin_lock_call(false, __builtin_return_address(0), real, l);
}

RACETRAP_INTERPOSE int pthread_spin_unlock(pthread_spinlock_t* l) {
  static auto real = next_function<SpinFn>("pthread_spin_unlock");
  Runtime& rt = runtime();
  ThreadState* t = watched_thread(rt);
  if (t == nullptr) return real(l);
  RuntimeScope scope(t);
  const bool track = lock_tracking_on(rt, __builtin_return_address(0));
  if (track) before_rwlock_unlock(t, spin_key(l));
  release(rt, t, spin_key(l));
  mark_deferrable(t);
  const int rc = real(l);
  if (track) after_unlock(t);
  return rc;
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
