// clock_choice.cc — the sampling clock chosen by a thread's behaviour
// (clock_choice.h). Contract: signal-safe (raw system call, arithmetic).
#include "clock_choice.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "signal_safety.h"

namespace racetrap {

ClockPolicy clock_policy_for(const char* clock_flag, uint64_t period_us, uint64_t tick_us) {
  if (std::strcmp(clock_flag, "perf") == 0) return ClockPolicy::kPerf;
  if (std::strcmp(clock_flag, "cpu-timer") == 0) return ClockPolicy::kCpuTimer;
  return tick_us != 0 && tick_us <= 2 * period_us ? ClockPolicy::kByBehaviour : ClockPolicy::kPerf;
}

uint64_t perf_top_up_period_us(uint64_t period_us, uint64_t tick_us) {
  if (tick_us <= period_us || period_us == 0) return 0;
  return period_us * tick_us / (tick_us - period_us);
}

// signal-safe.
SampleClockKind choose_sample_clock(SampleClockKind current, ThreadUsage since, uint64_t period_us) {
  if (since.cpu_us == 0 || period_us == 0) return current;
  // per period = count * period_us / cpu_us, compared without division.
  const uint64_t blocks = since.voluntary_switches * period_us;
  const uint64_t preemptions = since.involuntary_switches * period_us;
  if (current == SampleClockKind::kCpuTimer) {
    const bool rarely_switched = blocks * kToPerfPeriodsPerBlock <= since.cpu_us &&
                                 preemptions * 2 <= kToPerfPreemptionsPerTwoPeriods * since.cpu_us;
    return rarely_switched ? SampleClockKind::kPerf : SampleClockKind::kCpuTimer;
  }
  const bool often_switched = blocks >= kToTimerBlocksPerPeriod * since.cpu_us ||
                              preemptions >= kToTimerPreemptionsPerPeriod * since.cpu_us;
  return often_switched ? SampleClockKind::kCpuTimer : SampleClockKind::kPerf;
}

// signal-safe.
bool read_thread_usage(ThreadUsage* out) {
  ErrnoKeeper keep;
  rusage ru{};
  if (syscall(SYS_getrusage, RUSAGE_THREAD, &ru) != 0) return false;
  const auto us = [](const timeval& tv) {
    return static_cast<uint64_t>(tv.tv_sec) * 1000000u + static_cast<uint64_t>(tv.tv_usec);
  };
  out->cpu_us = us(ru.ru_utime) + us(ru.ru_stime);
  out->voluntary_switches = static_cast<uint64_t>(ru.ru_nvcsw);
  out->involuntary_switches = static_cast<uint64_t>(ru.ru_nivcsw);
  out->minor_faults = static_cast<uint64_t>(ru.ru_minflt);
  return true;
}

}  // namespace racetrap
