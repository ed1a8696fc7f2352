// perf_support.cc — what this kernel and machine allow, found by trying once
// (start-up and `racetrap check`). Ordinary context: it formats its messages, so
// it stays out of perf_events.cc, whose arm/disarm run inside signal handlers.
#include "perf_support.h"

#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>

#include "perf_events.h"

namespace racetrap {

namespace {

int read_perf_event_paranoid() {
  int value = -1;
  if (FILE* f = std::fopen("/proc/sys/kernel/perf_event_paranoid", "r")) {
    if (std::fscanf(f, "%d", &value) != 1) value = -1;
    std::fclose(f);
  }
  return value;
}

}  // namespace

PerfSupport probe_perf_support(bool read_paranoid) {
  PerfSupport s;
  if (read_paranoid) s.paranoid = read_perf_event_paranoid();
  auto try_open = [](perf_event_attr attr) {
    int fd = static_cast<int>(syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC));
    return fd;
  };
  perf_event_attr bp = breakpoint_attr(0, parked_breakpoint_address(), 8,
                                       BreakpointType::kWrite, 0, true);
  int fd = try_open(bp);
  int open_errno = errno;
  if (fd < 0) {
    if (!read_paranoid) s.paranoid = read_perf_event_paranoid();
    perf_event_attr plain = bp;
    plain.sigtrap = 0;
    plain.remove_on_exec = 0;
    int plain_fd = try_open(plain);
    if (plain_fd >= 0) {
      ::close(plain_fd);
      s.breakpoints = true;
      s.problem = "the kernel cannot send SIGTRAP from perf events (perf_event_attr.sigtrap needs Linux 5.13 or newer)";
      return s;
    }
    std::string why = std::strerror(open_errno);
    if ((open_errno == EACCES || open_errno == EPERM) && s.paranoid > 2)
      s.problem = fmt::format(
          "perf_event_open is not allowed here ({}; perf_event_paranoid={}): lower it with "
          "`sysctl kernel.perf_event_paranoid=2` (or run as root)",
          why, s.paranoid);
    else if (open_errno == EACCES || open_errno == EPERM)
      s.problem = fmt::format(
          "perf_event_open is not allowed here ({}, although perf_event_paranoid={}): a seccomp filter, "
          "container policy or security module forbids it; allow perf_event_open there",
          why, s.paranoid);
    else if (open_errno == ENOSYS)
      s.problem = fmt::format(
          "perf_event_open is not available ({}): a seccomp filter (container runtime, sandbox) blocks it "
          "or the kernel was built without CONFIG_PERF_EVENTS; allow perf_event_open in the seccomp/container policy",
          why);
    else if (open_errno == ENOENT || open_errno == EOPNOTSUPP || open_errno == ENODEV)
      s.problem = fmt::format(
          "this machine has no hardware breakpoint support for perf events ({}): run on bare metal or a VM "
          "that exposes debug registers",
          why);
    else if (open_errno == EMFILE || open_errno == ENFILE)
      s.problem = fmt::format("no file descriptor is free for perf events ({}): raise the open-files limit (ulimit -n)",
                              why);
    else
      s.problem = fmt::format("perf_event_open of a hardware breakpoint failed ({}): Linux 5.13 or newer with "
                              "perf events enabled is needed",
                              why);
    return s;
  }
  s.breakpoints = true;
  s.sigtrap = true;
  perf_event_attr moved = bp;
  moved.bp_addr = parked_breakpoint_address();
  moved.bp_type = HW_BREAKPOINT_RW;
  s.modify_attributes = ioctl(fd, PERF_EVENT_IOC_MODIFY_ATTRIBUTES, &moved) == 0;
  ::close(fd);
  perf_event_attr clock = task_clock_attr(1000000, true);
  int cfd = try_open(clock);
  if (cfd >= 0) {
    s.task_clock = true;
    ::close(cfd);
  } else {
    s.problem = fmt::format("the CPU-time sampling clock cannot be opened ({})", std::strerror(errno));
  }
  return s;
}

}  // namespace racetrap
