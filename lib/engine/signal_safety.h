// signal_safety.h — the helpers every signal-path file shares, each written once:
// saving errno around a handler's syscalls, writing a buffer in full, and the
// monotonic clock.
// Contract: signal-safe (syscalls only, no allocation, no locks).
// The tests/signal_safety check reads the symbols of every object file on the
// signal path and fails when one references malloc, free, operator new,
// __cxa_guard_acquire, stdio or pthread_mutex_lock.
#pragma once

#include <signal.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>

namespace racetrap {

// Restores errno when the scope ends: code that runs inside a signal handler
// must leave the interrupted program's errno as it found it.
class ErrnoKeeper {
 public:
  ErrnoKeeper() : saved_(errno) {}
  ~ErrnoKeeper() { errno = saved_; }
  ErrnoKeeper(const ErrnoKeeper&) = delete;
  ErrnoKeeper& operator=(const ErrnoKeeper&) = delete;

 private:
  int saved_;
};

// Writes every byte of the `count` buffers to fd: one writev, then the rest of a
// short write (disk full, a pipe) in pieces; EINTR is retried. False on an error.
// signal-safe.
bool write_fully(int fd, const iovec* iov, int count);
bool write_fully(int fd, const void* data, size_t len);

// Nanoseconds of CLOCK_MONOTONIC (the vDSO). signal-safe.
uint64_t monotonic_ns();

// Queues SIGTRAP with `info` (its si_code kept: a thread may queue any to itself)
// to the calling thread (rt_tgsigqueueinfo); errno preserved. Unless SIGTRAP is
// blocked, it is delivered before this returns.
void queue_sigtrap_to_self(siginfo_t* info);

}  // namespace racetrap
