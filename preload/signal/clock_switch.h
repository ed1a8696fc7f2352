// clock_switch.h — RACETRAP_CLOCK=auto: after each of a thread's samples, adds a
// perf task clock of its own to the thread's periodic CPU-time timer, or closes it,
// as its behaviour since the previous sample asks (clock_choice.h).
// Contract: signal-safe (raw system calls, the thread's own pre-allocated state).
#pragma once

#include "clock_choice.h"

namespace racetrap {

struct ThreadState;

// signal-safe. In the calling thread `t`'s SIGTRAP handler, after a sampling tick
// of either clock (ClockPolicy::kByBehaviour only; otherwise nothing), with its
// usage read at the tick (`now`): when choose_sample_clock says so, opens the perf clock beside the
// timer (at perf_top_up_period_us: the timer keeps sampling at the scheduler
// ticks), or closes the perf clock (arming the timer first if the thread has
// none). A move the kernel refuses leaves the thread on the clock it has.
void reconsider_sample_clock(ThreadState& t, const ThreadUsage& now);

}  // namespace racetrap
