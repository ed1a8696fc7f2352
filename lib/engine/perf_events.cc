// perf_events.cc — breakpoint slots, the sampling clock and the support probe.
// Contract: arm/disarm/read_perf_signal are signal-safe (syscalls only, errno
// preserved); open/close run in ordinary context. The support probe, which
// formats its messages, is in perf_support.cc, off the signal path.
#include "perf_events.h"

#include <fcntl.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "signal_safety.h"

#ifndef TRAP_PERF
#define TRAP_PERF 6
#endif

namespace racetrap {
namespace {

// A harmless address to point a disabled breakpoint at.
alignas(8) uint64_t parking_word;

}  // namespace

uint64_t parked_breakpoint_address() { return reinterpret_cast<uint64_t>(&parking_word); }

perf_event_attr task_clock_attr(uint64_t period_us, bool disabled) {
  perf_event_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_TASK_CLOCK;
  attr.sample_period = period_us * 1000;  // task clock counts nanoseconds
  attr.disabled = disabled ? 1 : 0;
  attr.exclude_kernel = 1;
  attr.exclude_hv = 1;
  attr.sigtrap = 1;
  attr.remove_on_exec = 1;
  attr.sig_data = sig_data::make(sig_data::kSampleTick, 0, 0);
  return attr;
}

namespace {

// signal-safe. Opens an event for the calling thread, moved above perf_fd_floor()
// and recorded as owned by *holder. Never keeps one of the program's low numbers:
// with no room above the floor it fails with EMFILE.
int open_event(perf_event_attr* attr, int* holder) {
  int fd = static_cast<int>(syscall(SYS_perf_event_open, attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC));
  if (fd < 0) return -1;
  int floor = perf_fd_floor();
  if (fd < floor) {
    int high = fcntl(fd, F_DUPFD_CLOEXEC, floor);
    int err = errno;
    syscall(SYS_close, fd);
    if (high < 0) {
      errno = err == EINVAL ? EMFILE : err;
      return -1;
    }
    fd = high;
  }
  owned_fds::own(fd, holder);
  return fd;
}

// Who holds each owned fd (nullptr: not ours).
std::atomic<int*> fd_holders[owned_fds::kTrackedFds];

}  // namespace

perf_event_attr breakpoint_attr(unsigned slot, uint64_t addr, uint32_t len, BreakpointType type,
                                uint64_t generation, bool disabled) {
  perf_event_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.type = PERF_TYPE_BREAKPOINT;
  attr.bp_type = static_cast<uint32_t>(type);
  attr.bp_addr = addr;
  attr.bp_len = len;
  attr.sample_period = 1;
  attr.disabled = disabled ? 1 : 0;
  attr.exclude_kernel = 1;
  attr.exclude_hv = 1;
  attr.sigtrap = 1;
  attr.remove_on_exec = 1;
  attr.sig_data = sig_data::make(sig_data::kBreakpoint, slot, generation);
  return attr;
}

namespace owned_fds {

void own(int fd, int* holder) {
  if (fd >= 0 && fd < kTrackedFds) fd_holders[fd].store(holder, std::memory_order_release);
}

void disown(int fd) {
  if (fd >= 0 && fd < kTrackedFds) fd_holders[fd].store(nullptr, std::memory_order_release);
}

bool owned(int fd) {
  return fd >= 0 && fd < kTrackedFds && fd_holders[fd].load(std::memory_order_acquire) != nullptr;
}

bool move_out_of_the_way(int fd) {
  ErrnoKeeper keep;
  if (fd < 0 || fd >= kTrackedFds) return false;
  int* holder = fd_holders[fd].load(std::memory_order_acquire);
  if (holder == nullptr) return true;
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, perf_fd_floor());
  if (moved >= 0 && moved < kTrackedFds) {
    own(moved, holder);
    __atomic_store_n(holder, moved, __ATOMIC_RELEASE);
    disown(fd);
    return true;
  }
  if (moved >= 0) syscall(SYS_close, moved);
  __atomic_store_n(holder, -1, __ATOMIC_RELEASE);  // dropped: the holder stops using it
  disown(fd);
  return false;
}

int list_in_range(unsigned first, unsigned last, int* out, int max) {
  int n = 0;
  if (first >= static_cast<unsigned>(kTrackedFds)) return 0;
  unsigned end = last < static_cast<unsigned>(kTrackedFds) - 1 ? last : static_cast<unsigned>(kTrackedFds) - 1;
  for (unsigned fd = first; fd <= end && n < max; ++fd)
    if (fd_holders[fd].load(std::memory_order_relaxed) != nullptr) out[n++] = static_cast<int>(fd);
  return n;
}

void close_own(int fd) {
  if (fd < 0) return;
  disown(fd);
  ErrnoKeeper keep;
  syscall(SYS_close, fd);
}

void close_all() {
  ErrnoKeeper keep;
  for (int fd = 0; fd < kTrackedFds; ++fd) {
    int* holder = fd_holders[fd].load(std::memory_order_relaxed);
    if (holder == nullptr) continue;
    fd_holders[fd].store(nullptr, std::memory_order_relaxed);
    __atomic_store_n(holder, -1, __ATOMIC_RELEASE);
    syscall(SYS_close, fd);
  }
}

}  // namespace owned_fds

PerfSignal read_perf_signal(const void* siginfo) {
  // Kernel layout of siginfo for SIGTRAP/TRAP_PERF on x86-64: si_code at 8,
  // si_addr at 16, si_perf_data at 24, si_perf_type at 32, si_perf_flags at 36.
  const auto* bytes = static_cast<const unsigned char*>(siginfo);
  int code;
  std::memcpy(&code, bytes + 8, sizeof code);
  PerfSignal out{false, 0, false};
  if (code != TRAP_PERF) return out;
  uint32_t flags;
  std::memcpy(&out.data, bytes + 24, sizeof out.data);
  std::memcpy(&flags, bytes + 36, sizeof flags);
  out.is_perf = true;
  out.async = (flags & 1u) != 0;  // TRAP_PERF_FLAG_ASYNC
  return out;
}

// Computed on first use with getrlimit (a syscall), without a guarded static: the
// signal path opens events too (lazy breakpoints), and two threads that race to
// compute it store the same number.
std::atomic<int> fd_floor{0};

int perf_fd_floor() {
  int floor = fd_floor.load(std::memory_order_relaxed);
  if (floor != 0) return floor;
  ErrnoKeeper keep;
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY) {
    floor = 512;
  } else {
    const long half = static_cast<long>(lim.rlim_cur / 2);
    floor = static_cast<int>(half < 3 ? 3 : half > 4096 ? 4096 : half);
  }
  fd_floor.store(floor, std::memory_order_relaxed);
  return floor;
}

bool BreakpointSlot::open(unsigned slot_index) {
  slot_index_ = slot_index;
  if (open_lazily_) {
    fd_ = kNotYetOpened;
    armed_ = false;
    generation_ = 0;
    return true;
  }
  perf_event_attr attr = breakpoint_attr(slot_index, parked_breakpoint_address(), 8,
                                         BreakpointType::kWrite, 0, /*disabled=*/true);
  fd_ = open_event(&attr, &fd_);
  armed_ = false;
  generation_ = 0;
  return fd_ >= 0;
}

void BreakpointSlot::close() {
  owned_fds::close_own(fd_);
  fd_ = -1;
  armed_ = false;
}

// signal-safe (the lazy first open too: perf_event_open, fcntl, close, atomics).
bool BreakpointSlot::arm(uint64_t addr, uint32_t len, BreakpointType type, uint64_t generation) {
  ErrnoKeeper keep;
  if (fd_ == kNotYetOpened) {  // lazy mode, first arm: open it armed (open_event is signal-safe)
    perf_event_attr attr = breakpoint_attr(slot_index_, addr, len, type, generation, false);
    fd_ = open_event(&attr, &fd_);  // failure leaves -1: the slot is dropped
    if (fd_ < 0) return armed_ = false;
    armed_ = true;
    generation_ = generation;
    range_ = ArmedBreakpoint{addr, len, type};
    return true;
  }
  if (fd_ < 0) return false;
  perf_event_attr attr = breakpoint_attr(slot_index_, addr, len, type, generation, false);
  if (use_modify_) {
    if (ioctl(fd_, PERF_EVENT_IOC_MODIFY_ATTRIBUTES, &attr) != 0) {
      if (errno == EBADF || errno == ENOTTY) {
        // Not our event any more (the program replaced the number behind racetrap's
        // back): drop it, and give the number back, so the program's own close()
        // of it is not swallowed as one of racetrap's.
        owned_fds::disown(fd_);
        fd_ = -1;
      }
      return false;
    }
  } else {
    owned_fds::close_own(fd_);
    fd_ = open_event(&attr, &fd_);
    if (fd_ < 0) return armed_ = false;
  }
  armed_ = true;
  generation_ = generation;
  range_ = ArmedBreakpoint{addr, len, type};
  return true;
}

// signal-safe.
bool BreakpointSlot::disarm() {
  ErrnoKeeper keep;
  if (fd_ == kNotYetOpened) return true;  // never armed
  if (fd_ < 0) return false;
  if (!armed_) return true;
  // Disabled where it points, not re-pointed at the parking word: the next arm's
  // MODIFY_ATTRIBUTES re-points and enables it in one call either way, and a plain
  // disable skips the attribute copy and the breakpoint checks, and the slot
  // accounting a type change (the parking word's W after an RW watch) costs
  // (2.0 -> 1.5 us a disarm in a hot loop here, bench/results).
  const bool ok = ioctl(fd_, PERF_EVENT_IOC_DISABLE, 0) == 0;
  if (ok) armed_ = false;
  return ok;
}

// signal-safe.
bool BreakpointSlot::suspend() {
  if (!armed_ || fd_ < 0) return false;
  ErrnoKeeper keep;
  return ioctl(fd_, PERF_EVENT_IOC_DISABLE, 0) == 0;
}

// signal-safe.
void BreakpointSlot::resume() {
  if (!armed_ || fd_ < 0) return;
  ErrnoKeeper keep;
  ioctl(fd_, PERF_EVENT_IOC_ENABLE, 0);
}

bool SampleClock::open(uint64_t period_us, bool inherited_by_new_threads, bool* inherited) {
  perf_event_attr attr = task_clock_attr(period_us, false);
  if (inherited_by_new_threads) {
    attr.inherit = 1;
    attr.inherit_thread = 1;  // threads only: a forked child starts its own clocks
    fd_ = open_event(&attr, &fd_);
    if (inherited != nullptr) *inherited = fd_ >= 0;
    if (fd_ >= 0) return true;
    attr.inherit = 0;
    attr.inherit_thread = 0;
  }
  if (inherited != nullptr) *inherited = false;
  fd_ = open_event(&attr, &fd_);
  return fd_ >= 0;
}

namespace {
// The descriptors of clocks kept open for the threads that inherited them
// (keep_open_for_inheritors): in practice the main thread's, once per process.
constexpr int kKeptClocks = 8;
int kept_clock_fds[kKeptClocks] = {-1, -1, -1, -1, -1, -1, -1, -1};
std::atomic<int> kept_clocks{0};
}  // namespace

void SampleClock::keep_open_for_inheritors() {
  if (fd_ < 0) return;
  const int i = kept_clocks.fetch_add(1, std::memory_order_relaxed);
  if (i >= kKeptClocks) {  // never expected: close it (the inheritors stop ticking) rather than leak
    close();
    return;
  }
  kept_clock_fds[i] = fd_;
  owned_fds::own(fd_, &kept_clock_fds[i]);  // a dup2 onto it moves it there
  fd_ = -1;
}

void SampleClock::pause() {
  ErrnoKeeper keep;
  if (fd_ >= 0) ioctl(fd_, PERF_EVENT_IOC_DISABLE, 0);
}

void SampleClock::resume() {
  ErrnoKeeper keep;
  if (fd_ >= 0) ioctl(fd_, PERF_EVENT_IOC_ENABLE, 0);
}

void SampleClock::close() {
  owned_fds::close_own(fd_);
  fd_ = -1;
}

}  // namespace racetrap
