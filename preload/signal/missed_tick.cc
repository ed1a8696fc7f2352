// missed_tick.cc — see missed_tick.h.
#include "missed_tick.h"

#include <time.h>

#include "deferred_sample.h"
#include "thread_state.h"
#include "vdso_clock.h"

namespace racetrap {
namespace {

uint64_t thread_cpu_ns() {
  timespec ts{};
  if (vdso_clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

void take_missed_tick_at_join(ThreadState& t) {
  if (!t.watching || !passes_clock_on(t)) return;
  const uint64_t cpu = thread_cpu_ns();
  if (cpu == 0) return;
  const uint64_t period = runtime().sample_period_ns;
  const bool ticked = t.ticks != t.ticks_at_join;
  const bool due = !ticked && t.cpu_ns_at_join != 0 && cpu - t.cpu_ns_at_join >= period;
  if (due) {
    runtime().stats.missed_ticks_taken.fetch_add(1, std::memory_order_relaxed);
    raise_own_tick(sig_data::kMissedTick);  // handled before the system call returns
  }
  if (ticked || due || t.cpu_ns_at_join == 0) {
    t.ticks_at_join = t.ticks;
    t.cpu_ns_at_join = cpu;
  }
}

}  // namespace racetrap
