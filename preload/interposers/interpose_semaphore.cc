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
#include "real_function.h"

namespace racetrap {

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
  int rc = real(s);
  if (rc == 0 && watched_thread() != nullptr) {
    RuntimeScope scope;
    runtime().sync_clocks.forget(sync_key(s));
  }
  return rc;
}

}  // namespace racetrap
