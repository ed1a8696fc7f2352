// interpose_semaphore.cc — POSIX semaphores, unnamed (sem_init) and named
// (sem_open), as happens-before edges: sem_post releases into the semaphore's
// clock before it runs; sem_wait, sem_trywait, sem_timedwait and sem_clockwait
// acquire it when they succeed (a failed or interrupted wait acquires nothing).
// Semaphores are keyed by address: glibc maps a named semaphore once per process
// however often it is opened, so every sem_open of one name yields one key. A
// semaphore shared with another process orders nothing across the two (each
// process has its own clocks).
#include <semaphore.h>

#include "happens_before.h"
#include "lock_misuse.h"
#include "lock_tracking.h"
#include "real_function.h"

namespace racetrap {

// Init and destroy are checked for misuse (lock_misuse.h): re-initializing or
// destroying a semaphore threads are blocked on.
RACETRAP_INTERPOSE int sem_init(sem_t* s, int pshared, unsigned value) {
  static auto real = next_function<int (*)(sem_t*, int, unsigned)>("sem_init");
  ThreadState* t = watched_thread();
  if (t == nullptr) return real(s, pshared, value);
  RuntimeScope scope;
  void* ret = __builtin_return_address(0);
  const bool track = lock_tracking_on(ret);
  const bool in_use = track && sem_in_use_before_init(s);
  int rc = real(s, pshared, value);
  if (track) after_sem_init(t, s, in_use, rc, reinterpret_cast<uint64_t>(ret));
  return rc;
}

RACETRAP_INTERPOSE int sem_post(sem_t* s) {
  static auto real = next_function<int (*)(sem_t*)>("sem_post");
  return release_call(s, real, s);
}

RACETRAP_INTERPOSE int sem_wait(sem_t* s) {
  static auto real = next_function<int (*)(sem_t*)>("sem_wait");
  return acquire_call(returned_zero, s, real, s);
}

RACETRAP_INTERPOSE int sem_trywait(sem_t* s) {
  static auto real = next_function<int (*)(sem_t*)>("sem_trywait");
  return acquire_call(returned_zero, s, real, s);
}

RACETRAP_INTERPOSE int sem_timedwait(sem_t* s, const struct timespec* abstime) {
  static auto real = next_function<int (*)(sem_t*, const struct timespec*)>("sem_timedwait");
  return acquire_call(returned_zero, s, real, s, abstime);
}

RACETRAP_INTERPOSE int sem_clockwait(sem_t* s, clockid_t clock, const struct timespec* abstime) {
  static auto real = next_function<int (*)(sem_t*, clockid_t, const struct timespec*)>("sem_clockwait");
  return acquire_call(returned_zero, s, real, s, clock, abstime);
}

RACETRAP_INTERPOSE int sem_destroy(sem_t* s) {
  static auto real = next_function<int (*)(sem_t*)>("sem_destroy");
  ThreadState* t = watched_thread();
  if (t == nullptr) return real(s);
  RuntimeScope scope;
  void* ret = __builtin_return_address(0);
  const bool track = lock_tracking_on(ret);
  const bool busy = track && sem_has_waiters(s);
  int rc = real(s);
  if (track) after_sem_destroy(t, s, busy, rc, reinterpret_cast<uint64_t>(ret));
  if (rc == 0) runtime().sync_clocks.forget(sync_key(s));
  return rc;
}

}  // namespace racetrap
