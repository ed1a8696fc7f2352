// interpose_sync.cc — mutexes and condition variables as happens-before edges.
// A lock (or a wait's return) acquires the object's clock; an unlock (or a
// signal/broadcast, or the unlock inside a wait) releases into it. Normal,
// recursive, error-checking and robust mutexes go through the same calls: a lock
// that fails (EDEADLK, EBUSY, ETIMEDOUT, ENOTRECOVERABLE) acquires nothing, a
// robust lock returning EOWNERDEAD counts as locked, and an unlock that will fail
// with EPERM (not the owner, for the kinds that check) releases nothing. The real call
// runs with the thread marked in-runtime: libc's own accesses to the lock word
// are never sampled or trapped on.
#include <pthread.h>

#include <cerrno>
#include <cstdint>

#include "happens_before.h"
#include "real_function.h"

namespace racetrap {
namespace {

// EOWNERDEAD: a robust mutex whose owner died is locked by the caller.
bool locked(int rc) { return rc == 0 || rc == EOWNERDEAD; }

template <typename Fn, typename... Args>
int lock_call(Fn real, const void* object, Args... args) {
  return acquire_call(locked, object, real, args...);
}

// glibc (NPTL) mutex kinds whose unlock checks the owner and fails with EPERM:
// recursive, error-checking, robust, priority-inheritance, priority-protect.
constexpr int kKindMask = 3, kRecursive = 1, kErrorCheck = 2, kOwnerCheckedBits = 16 | 32 | 64;

// Whether unlocking `m` from this thread fails with EPERM (then it creates no edge).
// Reads glibc's mutex fields: only the kinds that check the owner are judged.
bool unlock_will_fail(const pthread_mutex_t* m, const ThreadState* t) {
  const int kind = m->__data.__kind;
  const bool checks_owner = (kind & kKindMask) == kRecursive || (kind & kKindMask) == kErrorCheck ||
                            (kind & kOwnerCheckedBits) != 0;
  if (!checks_owner) return false;
  const int owner = __atomic_load_n(&m->__data.__owner, __ATOMIC_RELAXED);
  return static_cast<uint32_t>(owner) != t->os_tid;
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
  ThreadState* t = watched_thread();
  if (t == nullptr) return real(m);
  RuntimeScope scope;
  if (!unlock_will_fail(m, t)) release(t, m);
  return real(m);
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
  return release_call(c, real, c);
}

RACETRAP_INTERPOSE int pthread_cond_broadcast(pthread_cond_t* c) {
  static auto real = next_function<int (*)(pthread_cond_t*)>("pthread_cond_broadcast", kCondVersion);
  return release_call(c, real, c);
}

}  // namespace racetrap
