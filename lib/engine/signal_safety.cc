// signal_safety.cc — see signal_safety.h. signal-safe throughout.
#include "signal_safety.h"
#include "vdso_clock.h"

#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

namespace racetrap {

bool write_fully(int fd, const iovec* iov, int count) {
  size_t total = 0;
  for (int i = 0; i < count; ++i) total += iov[i].iov_len;
  ssize_t n;
  do n = writev(fd, iov, count); while (n < 0 && errno == EINTR);
  if (n < 0) return false;
  if (static_cast<size_t>(n) == total) return true;
  size_t done = static_cast<size_t>(n);
  for (int i = 0; i < count; ++i) {
    const char* base = static_cast<const char*>(iov[i].iov_base);
    size_t len = iov[i].iov_len;
    if (done >= len) {
      done -= len;
      continue;
    }
    base += done;
    len -= done;
    done = 0;
    while (len > 0) {
      ssize_t w = write(fd, base, len);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      base += w;
      len -= static_cast<size_t>(w);
    }
  }
  return true;
}

bool write_fully(int fd, const void* data, size_t len) {
  iovec iov{const_cast<void*>(data), len};
  return write_fully(fd, &iov, 1);
}

uint64_t monotonic_ns() {
  timespec ts;
  vdso_clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

void queue_sigtrap_to_self(siginfo_t* info) {
  ErrnoKeeper keep;
  syscall(SYS_rt_tgsigqueueinfo, static_cast<pid_t>(raw_getpid()), static_cast<pid_t>(syscall(SYS_gettid)),
          SIGTRAP, info);
}

}  // namespace racetrap
