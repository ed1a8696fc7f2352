// interpose_barrier.cc — pthread barriers as happens-before edges.
// Every waiter releases into the barrier's clock before the real wait and
// acquires it after the wait returns: the wait returns only once every waiter of
// the round has arrived (and so released), so each thread leaves the barrier
// ordered after everything every participant did before it.
// Imprecision (never a false report): a fast thread may already have arrived at
// the next round, and released into the same clock, when a slow thread acquires.
#include <pthread.h>

#include "happens_before.h"
#include "real_function.h"

namespace racetrap {

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
  int rc = real(b);
  if (rc == 0 && watched_thread() != nullptr) {
    RuntimeScope scope;
    runtime().sync_clocks.forget(sync_key(b));
  }
  return rc;
}

}  // namespace racetrap
