// interpose_barrier.cc — pthread barriers as happens-before edges.
// Every waiter releases into the barrier's clock before the real wait and
// acquires it after the wait returns: the wait returns only once every waiter of
// the round has arrived (and so released), so each thread leaves the barrier
// ordered after everything every participant did before it.
// Imprecision (never a false report): a fast thread may already have arrived at
// the next round, and released into the same clock, when a slow thread acquires.
#include <pthread.h>

#include "happens_before.h"
#include "lock_misuse.h"
#include "lock_tracking.h"
#include "real_function.h"

namespace racetrap {

// Init and destroy are checked for misuse (lock_misuse.h): a count of 0, and
// re-initializing or destroying a barrier threads wait on.
RACETRAP_INTERPOSE int pthread_barrier_init(pthread_barrier_t* b, const pthread_barrierattr_t* attr,
                                            unsigned count) {
  static auto real =
      next_function<int (*)(pthread_barrier_t*, const pthread_barrierattr_t*, unsigned)>("pthread_barrier_init");
  ThreadState* t = watched_thread();
  if (t == nullptr) return real(b, attr, count);
  RuntimeScope scope;
  void* ret = __builtin_return_address(0);
  const bool track = lock_tracking_on(ret);
  const bool in_use = track && barrier_in_use_before_init(b);
  int rc = real(b, attr, count);
  if (track) after_barrier_init(t, b, count, in_use, rc, reinterpret_cast<uint64_t>(ret));
  return rc;
}

RACETRAP_INTERPOSE int pthread_barrier_wait(pthread_barrier_t* b) {
  static auto real = next_function<int (*)(pthread_barrier_t*)>("pthread_barrier_wait");
  ThreadState* t = watched_thread();
  if (t == nullptr) return real(b);
  RuntimeScope scope;
  release(t, b);
  int rc = real(b);
  if (rc == 0 || rc == PTHREAD_BARRIER_SERIAL_THREAD) acquire(t, b);
  return rc;
}

RACETRAP_INTERPOSE int pthread_barrier_destroy(pthread_barrier_t* b) {
  static auto real = next_function<int (*)(pthread_barrier_t*)>("pthread_barrier_destroy");
  ThreadState* t = watched_thread();
  if (t == nullptr) return real(b);
  RuntimeScope scope;
  void* ret = __builtin_return_address(0);
  if (lock_tracking_on(ret)) before_barrier_destroy(t, b, reinterpret_cast<uint64_t>(ret));
  int rc = real(b);
  if (rc == 0) runtime().sync_clocks.forget(sync_key(b));
  return rc;
}

}  // namespace racetrap
