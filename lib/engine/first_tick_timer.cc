// first_tick_timer.cc — the one-shot CPU-time timer that delivers a thread's first
// sampling tick (first_tick_timer.h). Raw system calls: glibc's timer_create
// wrapper may allocate for other notification kinds, and the kernel's timer id is
// what timer_delete needs. Contract: arm, cancel and is_first_tick are signal-safe.
#include "first_tick_timer.h"

#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>

#include "signal_safety.h"

namespace racetrap {
namespace {

// The si_value of racetrap's timers: a constant ("RTfirstT"), not an address, so
// that a tick still pending across an exec (kernels before 6.13 deliver a deleted
// timer's queued signal; SIGTRAP blocked by the program stays blocked across exec)
// is still recognized, and dropped, by the new image's racetrap.
constexpr uintptr_t kFirstTickTag = 0x5254666972737454ull;

// A timer's duration of `us` microseconds, at least 1 us (0 would disarm it).
timespec duration_us(uint64_t us) {
  timespec ts{static_cast<time_t>(us / 1000000), static_cast<long>(us % 1000000) * 1000};
  if (ts.tv_sec == 0 && ts.tv_nsec == 0) ts.tv_nsec = 1000;
  return ts;
}

}  // namespace

// signal-safe.
bool FirstTickTimer::arm_on(clockid_t cpu_clock, uint64_t period_us, uint32_t os_tid, bool periodic,
                            uint64_t first_us) {
  ErrnoKeeper keep;
  sigevent ev;
  std::memset(&ev, 0, sizeof ev);
  ev.sigev_notify = SIGEV_THREAD_ID;
  ev.sigev_signo = SIGTRAP;
  ev.sigev_value.sival_ptr = reinterpret_cast<void*>(kFirstTickTag);
  ev._sigev_un._tid = static_cast<pid_t>(os_tid);
  int id = kNone;
  if (syscall(SYS_timer_create, cpu_clock, &ev, &id) != 0) return false;
  itimerspec when{};
  when.it_value = duration_us(period_us);
  if (periodic) when.it_interval = when.it_value;
  if (first_us != 0 && first_us < period_us) when.it_value = duration_us(first_us);
  // Known before it can fire (its tick may come on another thread than the one
  // arming it, or interrupt this one right after the call).
  periodic_ = periodic;
  id_ = id;
  std::atomic_thread_fence(std::memory_order_release);
  if (syscall(SYS_timer_settime, id, 0, &when, nullptr) != 0) {
    id_ = kNone;
    std::atomic_signal_fence(std::memory_order_seq_cst);
    syscall(SYS_timer_delete, id);
    return false;
  }
  return true;
}

// signal-safe.
void FirstTickTimer::cancel() {
  const int id = id_;
  if (id == kNone) return;
  // Not pending any more before the deletion: a first tick that arrives in between
  // (a handler on this thread) sees nothing to start.
  id_ = kNone;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  ErrnoKeeper keep;
  syscall(SYS_timer_delete, id);
}

// signal-safe.
bool is_first_tick(const siginfo_t* info) {
  return info->si_code == SI_TIMER && reinterpret_cast<uintptr_t>(info->si_value.sival_ptr) == kFirstTickTag;
}

}  // namespace racetrap
