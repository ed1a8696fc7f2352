// interpose_rwlock.cc — pthread rwlocks as happens-before edges (C++
// std::shared_mutex and std::shared_timed_mutex are built on them).
// Model (happens_before.h rwlock_*): a successful write lock acquires what every
// earlier unlock released, a successful read lock what earlier *writers*
// released; an unlock releases into the writer or the reader clock depending on
// whether the caller holds the lock for writing (glibc's __cur_writer field names
// the writing thread). Failed calls (EBUSY, ETIMEDOUT, EDEADLK) acquire nothing.
#include <pthread.h>

#include <cstdint>

#include "happens_before.h"
#include "real_function.h"

namespace racetrap {
namespace {

template <typename Fn, typename... Args>
int rwlock_lock_call(bool writer, Fn real, pthread_rwlock_t* l, Args... args) {
  ThreadState* t = watched_thread();
  if (t == nullptr) return real(l, args...);
  RuntimeScope scope;
  int rc = real(l, args...);
  if (rc == 0) rwlock_acquire(t, l, writer);
  return rc;
}

using LockFn = int (*)(pthread_rwlock_t*);
using TimedFn = int (*)(pthread_rwlock_t*, const struct timespec*);
using ClockFn = int (*)(pthread_rwlock_t*, clockid_t, const struct timespec*);

}  // namespace

RACETRAP_INTERPOSE int pthread_rwlock_rdlock(pthread_rwlock_t* l) {
  static auto real = next_function<LockFn>("pthread_rwlock_rdlock");
  return rwlock_lock_call(false, real, l);
}

RACETRAP_INTERPOSE int pthread_rwlock_tryrdlock(pthread_rwlock_t* l) {
  static auto real = next_function<LockFn>("pthread_rwlock_tryrdlock");
  return rwlock_lock_call(false, real, l);
}

RACETRAP_INTERPOSE int pthread_rwlock_timedrdlock(pthread_rwlock_t* l, const struct timespec* abstime) {
  static auto real = next_function<TimedFn>("pthread_rwlock_timedrdlock");
  return rwlock_lock_call(false, real, l, abstime);
}

RACETRAP_INTERPOSE int pthread_rwlock_clockrdlock(pthread_rwlock_t* l, clockid_t clock,
                                                  const struct timespec* abstime) {
  static auto real = next_function<ClockFn>("pthread_rwlock_clockrdlock");
  return rwlock_lock_call(false, real, l, clock, abstime);
}

RACETRAP_INTERPOSE int pthread_rwlock_wrlock(pthread_rwlock_t* l) {
  static auto real = next_function<LockFn>("pthread_rwlock_wrlock");
  return rwlock_lock_call(true, real, l);
}

RACETRAP_INTERPOSE int pthread_rwlock_trywrlock(pthread_rwlock_t* l) {
  static auto real = next_function<LockFn>("pthread_rwlock_trywrlock");
  return rwlock_lock_call(true, real, l);
}

RACETRAP_INTERPOSE int pthread_rwlock_timedwrlock(pthread_rwlock_t* l, const struct timespec* abstime) {
  static auto real = next_function<TimedFn>("pthread_rwlock_timedwrlock");
  return rwlock_lock_call(true, real, l, abstime);
}

RACETRAP_INTERPOSE int pthread_rwlock_clockwrlock(pthread_rwlock_t* l, clockid_t clock,
                                                  const struct timespec* abstime) {
  static auto real = next_function<ClockFn>("pthread_rwlock_clockwrlock");
  return rwlock_lock_call(true, real, l, clock, abstime);
}

RACETRAP_INTERPOSE int pthread_rwlock_unlock(pthread_rwlock_t* l) {
  static auto real = next_function<LockFn>("pthread_rwlock_unlock");
  ThreadState* t = watched_thread();
  if (t == nullptr) return real(l);
  RuntimeScope scope;
  // Only the writer itself can see its own tid here: no other thread writes the
  // field while this one holds the lock for writing.
  const int writer = __atomic_load_n(&l->__data.__cur_writer, __ATOMIC_RELAXED);
  rwlock_release(t, l, writer != 0 && static_cast<uint32_t>(writer) == t->os_tid);
  return real(l);
}

RACETRAP_INTERPOSE int pthread_rwlock_destroy(pthread_rwlock_t* l) {
  static auto real = next_function<LockFn>("pthread_rwlock_destroy");
  int rc = real(l);
  if (rc == 0 && watched_thread() != nullptr) {
    RuntimeScope scope;
    rwlock_forget(l);
  }
  return rc;
}

}  // namespace racetrap
