// clock_switch.cc — a thread's sampling clock chosen by its behaviour at its own
// samples (clock_switch.h). Contract: signal-safe.
#include "clock_switch.h"

#include <atomic>
#include <cstdint>

#include "clock_choice.h"
#include "thread_state.h"

namespace racetrap {

// signal-safe.
void reconsider_sample_clock(ThreadState& t, const ThreadUsage& now) {
  Runtime& rt = runtime();
  if (rt.clock_policy != ClockPolicy::kByBehaviour) return;
  const ThreadUsage since = usage_since(t.usage_at_sample, now);
  t.usage_at_sample = now;
  const auto period_us = static_cast<uint64_t>(rt.sample_us);
  const SampleClockKind current = t.sample_clock.is_open() ? SampleClockKind::kPerf : SampleClockKind::kCpuTimer;
  if (choose_sample_clock(current, since, period_us) == current) return;
  if (current == SampleClockKind::kCpuTimer) {
    // The timer stays: it samples at the scheduler ticks, next to nothing each, and
    // the perf clock samples between them (perf_top_up_period_us). Where the ticks
    // alone sample every period, nothing is added.
    if (rt.perf_top_up_us == 0) return;
    const uint64_t perf_us = t.first_tick.pending() ? rt.perf_top_up_us : period_us;
    if (!t.sample_clock.open(perf_us)) return;
    rt.stats.clock_to_perf.fetch_add(1, std::memory_order_relaxed);
  } else {
    // A perf tick still queued after the close is one more sample.
    if (!t.first_tick.pending() && !t.first_tick.arm(period_us, t.os_tid, /*periodic=*/true)) return;
    t.sample_clock.close();
    rt.stats.clock_to_timer.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace racetrap
