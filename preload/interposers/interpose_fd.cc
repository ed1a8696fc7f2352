// interpose_fd.cc — the program cannot close or overwrite racetrap's descriptors.
//
// racetrap's perf events and raw stream live at high numbers (>= perf_fd_floor(),
// close-on-exec), out of the program's way. A program that closes "everything"
// (close_range, closefrom, a loop over /proc/self/fd) or dup2()s onto one of those
// numbers must keep working exactly as without racetrap, and racetrap must keep
// working too. The approach that never changes what the program sees:
//   - close(fd) of a racetrap fd reports success and leaves it open (the program
//     believes it closed a descriptor it never opened; nothing it can observe
//     through open/dup/pipe changes, since those take the lowest free numbers);
//   - close_range/closefrom close everything in the range except racetrap's fds;
//   - dup2/dup3 onto a racetrap fd first moves racetrap's descriptor to another
//     free high number, then does what the program asked: the program gets exactly
//     the number it wanted. When no number is free, racetrap drops that event and
//     the thread quietly stops using it.
// Raw syscalls (syscall(SYS_close_range, ...)) cannot be intercepted: a breakpoint
// whose fd became something else is detected at its next re-arm (EBADF/ENOTTY)
// and dropped (perf_events.cc).
#include <fcntl.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "perf_events.h"
#include "real_function.h"

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace racetrap {
namespace {

int raw_close_range(unsigned first, unsigned last, unsigned flags) {
  return static_cast<int>(syscall(SYS_close_range, first, last, flags));
}

// close_range over [first, last] that leaves racetrap's fds open.
int close_range_sparing_ours(unsigned first, unsigned last, unsigned flags) {
  if (first > last) {
    errno = EINVAL;
    return -1;
  }
  // Marking close-on-exec is harmless: racetrap's fds are close-on-exec already.
  if (flags & CLOSE_RANGE_CLOEXEC) return raw_close_range(first, last, flags);
  int ours[256];
  int count = owned_fds::list_in_range(first, last, ours, 256);
  if (count == 0) return raw_close_range(first, last, flags);
  if (flags & CLOSE_RANGE_UNSHARE) {
    if (unshare(CLONE_FILES) != 0) return -1;
    flags &= ~CLOSE_RANGE_UNSHARE;
  }
  unsigned from = first;
  for (int i = 0; i <= count; ++i) {
    // The gap before ours[i] (or the rest of the range after the last one).
    unsigned to;
    if (i < count) {
      if (static_cast<unsigned>(ours[i]) == from) {
        from = static_cast<unsigned>(ours[i]) + 1;
        continue;
      }
      to = static_cast<unsigned>(ours[i]) - 1;
    } else {
      if (from > last) break;
      // 256 owned fds listed at most: the tail may hold more; go round again.
      if (count == 256) return close_range_sparing_ours(from, last, flags);
      to = last;
    }
    if (from <= to && raw_close_range(from, to, flags) != 0) return -1;
    if (i < count) from = static_cast<unsigned>(ours[i]) + 1;
  }
  return 0;
}

}  // namespace

RACETRAP_INTERPOSE int close(int fd) {
  static auto real = next_function<int (*)(int)>("close");
  if (owned_fds::owned(fd)) return 0;  // racetrap's: the program never opened it
  return real(fd);
}

RACETRAP_INTERPOSE int close_range(unsigned first, unsigned last, int flags) {
  return close_range_sparing_ours(first, last, static_cast<unsigned>(flags));
}

RACETRAP_INTERPOSE void closefrom(int lowfd) {
  if (lowfd < 0) lowfd = 0;
  if (close_range_sparing_ours(static_cast<unsigned>(lowfd), ~0U, 0) == 0) return;
  // Old kernel without close_range: what glibc does, a loop over the open fds.
  long max = sysconf(_SC_OPEN_MAX);
  for (long fd = lowfd; fd < max; ++fd)
    if (!owned_fds::owned(static_cast<int>(fd))) syscall(SYS_close, fd);
}

RACETRAP_INTERPOSE int dup2(int oldfd, int newfd) {
  static auto real = next_function<int (*)(int, int)>("dup2");
  if (oldfd != newfd && owned_fds::owned(newfd)) {
    if (owned_fds::owned(oldfd) || fcntl(oldfd, F_GETFD) < 0) {  // an fd the program does not have
      errno = EBADF;
      return -1;
    }
    owned_fds::move_out_of_the_way(newfd);
  }
  return real(oldfd, newfd);
}

RACETRAP_INTERPOSE int dup3(int oldfd, int newfd, int flags) {
  static auto real = next_function<int (*)(int, int, int)>("dup3");
  if (oldfd != newfd && owned_fds::owned(newfd)) {
    if (owned_fds::owned(oldfd) || fcntl(oldfd, F_GETFD) < 0) {
      errno = EBADF;
      return -1;
    }
    owned_fds::move_out_of_the_way(newfd);
  }
  return real(oldfd, newfd, flags);
}

}  // namespace racetrap

// libunwind (stack capture) opens a pipe of its own at start-up to validate
// memory while unwinding. Left where pipe2() puts it, it takes the program's
// lowest descriptors (the program's first open() would return 5 instead of 3)
// and a program that closes everything would have libunwind read its pipes. While
// racetrap initializes, pipe2() results are moved to the very top of the
// descriptor range and protected like racetrap's own fds (libunwind keeps those
// numbers, so they are never moved again).
namespace racetrap {
namespace {
bool relocating_pipes = false;  // only the constructor sets it, before any thread
int pinned_holders[8];
int pinned_count = 0;

int top_fd_at_least(int fd) {
  rlimit lim{};
  long top = getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY ? static_cast<long>(lim.rlim_cur)
                                                                                     : 65536;
  if (top > owned_fds::kTrackedFds) top = owned_fds::kTrackedFds;
  long want = top - 2 - pinned_count;
  if (want <= perf_fd_floor()) return -1;
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, static_cast<int>(want));
  return moved;
}
}  // namespace

void relocate_library_pipes(bool on) { relocating_pipes = on; }

RACETRAP_INTERPOSE int pipe2(int fds[2], int flags) {
  static auto real = next_function<int (*)(int*, int)>("pipe2");
  int rc = real(fds, flags);
  if (rc != 0 || !relocating_pipes) return rc;
  for (int i = 0; i < 2; ++i) {
    int moved = top_fd_at_least(fds[i]);
    if (moved < 0 || pinned_count >= 8) continue;
    if ((flags & O_CLOEXEC) == 0) fcntl(moved, F_SETFD, 0);
    syscall(SYS_close, fds[i]);
    fds[i] = moved;
    pinned_holders[pinned_count] = moved;
    owned_fds::own(moved, &pinned_holders[pinned_count]);
    ++pinned_count;
  }
  return rc;
}

}  // namespace racetrap
