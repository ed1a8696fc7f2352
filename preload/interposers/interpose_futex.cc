// interpose_futex.cc — futexes reached through libc's syscall() as
// happens-before edges. libstdc++ hands values over this way (std::future and
// std::promise, std::atomic<T>::wait/notify, std::latch, std::barrier,
// std::counting_semaphore), and so does hand-written code calling
// syscall(SYS_futex, ...). glibc's own futex uses are inline system calls and never
// come here (its primitives are interposed by name instead).
//
// Contract:
//  - every other system call is passed through untouched (forwarding all six
//    argument registers), with no lookup, allocation or lock on the way: the
//    wrapper is safe wherever syscall() itself is, signal handlers included;
//  - FUTEX_WAKE, FUTEX_WAKE_BITSET, FUTEX_WAKE_OP, FUTEX_REQUEUE,
//    FUTEX_CMP_REQUEUE(_PI) and FUTEX_UNLOCK_PI release into the futex word's clock
//    (and uaddr2's, for the ops that have one) before the call; a waker also
//    acquires what waiters left there (see below);
//  - FUTEX_WAIT, FUTEX_WAIT_BITSET and FUTEX_WAIT_REQUEUE_PI release before the
//    call (every futex protocol publishes "I am going to sleep" with an atomic
//    write that the waker reads before it decides to wake) and acquire when the
//    call returns, whatever it returns (the caller re-checks the word anyway);
//  - FUTEX_LOCK_PI(2) and FUTEX_TRYLOCK_PI acquire when they succeed.
// What cannot be seen: a handoff that completes without a futex call on one of
// the two sides (a waiter that finds the value already changed and never sleeps,
// a notify with no sleeping waiter). See README "What racetrap can and cannot see".
#include <linux/futex.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstdarg>
#include <cstdint>

#include "happens_before.h"
#include "real_function.h"

namespace racetrap {
namespace {

using SyscallFn = long (*)(long, ...);

// Resolved at load time, so the pass-through path never calls dlsym.
SyscallFn real_syscall = nullptr;
__attribute__((constructor(102))) void resolve_syscall() {
  real_syscall = next_function<SyscallFn>("syscall");
}

// What glibc's syscall() does, for the instant before the constructor ran.
long raw_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6) {
  long rc;
  register long r10 asm("r10") = a4;
  register long r8 asm("r8") = a5;
  register long r9 asm("r9") = a6;
  asm volatile("syscall"
               : "=a"(rc)
               : "a"(n), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
               : "rcx", "r11", "memory");
  if (rc < 0 && rc > -4096) {
    errno = static_cast<int>(-rc);
    return -1;
  }
  return rc;
}

long forward(long n, long a1, long a2, long a3, long a4, long a5, long a6) {
  SyscallFn real = real_syscall;
  return real != nullptr ? real(n, a1, a2, a3, a4, a5, a6) : raw_syscall(n, a1, a2, a3, a4, a5, a6);
}

enum class FutexEdge { kNone, kWake, kWait, kLock };

FutexEdge edge_of(int cmd, bool* has_uaddr2) {
  *has_uaddr2 = false;
  switch (cmd) {
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET:
    case FUTEX_UNLOCK_PI:
      return FutexEdge::kWake;
    case FUTEX_WAKE_OP:
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE:
    case FUTEX_CMP_REQUEUE_PI:
      *has_uaddr2 = true;
      return FutexEdge::kWake;
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET:
      return FutexEdge::kWait;
    case FUTEX_WAIT_REQUEUE_PI:
      *has_uaddr2 = true;
      return FutexEdge::kWait;
    case FUTEX_LOCK_PI:
    case FUTEX_LOCK_PI2:
    case FUTEX_TRYLOCK_PI:
      return FutexEdge::kLock;
    default:
      return FutexEdge::kNone;
  }
}

long futex_call(long a1, long a2, long a3, long a4, long a5, long a6) {
  ThreadState* t = watched_thread();
  bool has_uaddr2 = false;
  const int cmd = static_cast<int>(a2) & FUTEX_CMD_MASK;
  const FutexEdge edge = t != nullptr ? edge_of(cmd, &has_uaddr2) : FutexEdge::kNone;
  if (edge == FutexEdge::kNone) return forward(SYS_futex, a1, a2, a3, a4, a5, a6);
  const void* uaddr = reinterpret_cast<const void*>(a1);
  const void* uaddr2 = reinterpret_cast<const void*>(a5);
  RuntimeScope scope;
  if (edge == FutexEdge::kWake) {
    // Both ways: the waker is ordered after waiters that went to sleep (they
    // released before sleeping), and whoever it wakes after the waker.
    acquire_release(t, uaddr);
    if (has_uaddr2) acquire_release(t, uaddr2);
    return forward(SYS_futex, a1, a2, a3, a4, a5, a6);
  }
  if (edge == FutexEdge::kWait) {
    release(t, uaddr);
    long rc = forward(SYS_futex, a1, a2, a3, a4, a5, a6);
    const int err = errno;
    if (has_uaddr2) join_from(t, uaddr2);
    acquire(t, uaddr);  // the last edge: a deferred sample may tick the clock after it
    errno = err;
    return rc;
  }
  long rc = forward(SYS_futex, a1, a2, a3, a4, a5, a6);
  const int err = errno;
  if (rc == 0) acquire(t, uaddr);
  errno = err;
  return rc;
}

}  // namespace

RACETRAP_INTERPOSE long syscall(long number, ...) {
  va_list ap;
  va_start(ap, number);
  const long a1 = va_arg(ap, long), a2 = va_arg(ap, long), a3 = va_arg(ap, long);
  const long a4 = va_arg(ap, long), a5 = va_arg(ap, long), a6 = va_arg(ap, long);
  va_end(ap);
  if (number == SYS_futex && runtime_active()) return futex_call(a1, a2, a3, a4, a5, a6);
  return forward(number, a1, a2, a3, a4, a5, a6);
}

}  // namespace racetrap
