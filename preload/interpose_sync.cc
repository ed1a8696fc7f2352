// interpose_sync.cc — mutexes and condition variables as happens-before edges.
// A lock (or a wait's return) acquires the object's clock; an unlock (or a
// signal/broadcast, or the unlock inside a wait) releases into it. The real call
// runs with the thread marked in-runtime: libc's own accesses to the lock word
// are never sampled or trapped on.
#include <pthread.h>

#include <cerrno>
#include <cstdint>

#include "happens_before.h"
#include "real_function.h"

namespace racetrap {
namespace {

bool locked(int rc) { return rc == 0 || rc == EOWNERDEAD; }

// Runs a locking call; acquires `object` when it succeeded.
template <typename Fn, typename... Args>
int lock_call(Fn real, const void* object, Args... args) {
  ThreadState* t = watched_thread();
  if (t == nullptr) return real(args...);
  RuntimeScope scope;
  int rc = real(args...);
  if (locked(rc)) acquire(t, object);
  return rc;
}

// Releases `object`, then runs the unlocking call.
template <typename Fn, typename... Args>
int unlock_call(Fn real, const void* object, Args... args) {
  ThreadState* t = watched_thread();
  if (t == nullptr) return real(args...);
  RuntimeScope scope;
  release(t, object);
  return real(args...);
}

// A condition wait: releases the mutex, waits, then acquires the condition
// (what signallers released) and the mutex again.
template <typename Fn, typename... Args>
int wait_call(Fn real, pthread_cond_t* cond, pthread_mutex_t* mutex, Args... args) {
  ThreadState* t = watched_thread();
  if (t == nullptr) return real(cond, mutex, args...);
  RuntimeScope scope;
  release(t, mutex);
  int rc = real(cond, mutex, args...);
  runtime().sync_clocks.acquire(sync_key(cond), t->clock);
  acquire(t, mutex);
  return rc;
}

constexpr const char* kCondVersion = "GLIBC_2.3.2";  // the current pthread_cond_* ABI

}  // namespace

RACETRAP_INTERPOSE int pthread_mutex_lock(pthread_mutex_t* m) {
  static auto real = next_function<int (*)(pthread_mutex_t*)>("pthread_mutex_lock");
  return lock_call(real, m, m);
}

RACETRAP_INTERPOSE int pthread_mutex_trylock(pthread_mutex_t* m) {
  static auto real = next_function<int (*)(pthread_mutex_t*)>("pthread_mutex_trylock");
  return lock_call(real, m, m);
}

RACETRAP_INTERPOSE int pthread_mutex_timedlock(pthread_mutex_t* m, const struct timespec* abstime) {
  static auto real = next_function<int (*)(pthread_mutex_t*, const struct timespec*)>("pthread_mutex_timedlock");
  return lock_call(real, m, m, abstime);
}

RACETRAP_INTERPOSE int pthread_mutex_clocklock(pthread_mutex_t* m, clockid_t clock, const struct timespec* abstime) {
  static auto real =
      next_function<int (*)(pthread_mutex_t*, clockid_t, const struct timespec*)>("pthread_mutex_clocklock");
  return lock_call(real, m, m, clock, abstime);
}

RACETRAP_INTERPOSE int pthread_mutex_unlock(pthread_mutex_t* m) {
  static auto real = next_function<int (*)(pthread_mutex_t*)>("pthread_mutex_unlock");
  return unlock_call(real, m, m);
}

RACETRAP_INTERPOSE int pthread_mutex_destroy(pthread_mutex_t* m) {
  static auto real = next_function<int (*)(pthread_mutex_t*)>("pthread_mutex_destroy");
  int rc = real(m);
  if (rc == 0 && watched_thread() != nullptr) {
    RuntimeScope scope;
    runtime().sync_clocks.forget(sync_key(m));
  }
  return rc;
}

RACETRAP_INTERPOSE int pthread_cond_wait(pthread_cond_t* c, pthread_mutex_t* m) {
  static auto real = next_function<int (*)(pthread_cond_t*, pthread_mutex_t*)>("pthread_cond_wait", kCondVersion);
  return wait_call(real, c, m);
}

RACETRAP_INTERPOSE int pthread_cond_timedwait(pthread_cond_t* c, pthread_mutex_t* m, const struct timespec* abstime) {
  static auto real = next_function<int (*)(pthread_cond_t*, pthread_mutex_t*, const struct timespec*)>(
      "pthread_cond_timedwait", kCondVersion);
  return wait_call(real, c, m, abstime);
}

RACETRAP_INTERPOSE int pthread_cond_clockwait(pthread_cond_t* c, pthread_mutex_t* m, clockid_t clock,
                                              const struct timespec* abstime) {
  static auto real = next_function<int (*)(pthread_cond_t*, pthread_mutex_t*, clockid_t, const struct timespec*)>(
      "pthread_cond_clockwait");
  return wait_call(real, c, m, clock, abstime);
}

RACETRAP_INTERPOSE int pthread_cond_signal(pthread_cond_t* c) {
  static auto real = next_function<int (*)(pthread_cond_t*)>("pthread_cond_signal", kCondVersion);
  return unlock_call(real, c, c);
}

RACETRAP_INTERPOSE int pthread_cond_broadcast(pthread_cond_t* c) {
  static auto real = next_function<int (*)(pthread_cond_t*)>("pthread_cond_broadcast", kCondVersion);
  return unlock_call(real, c, c);
}

}  // namespace racetrap
