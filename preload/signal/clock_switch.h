// clock_switch.h — RACETRAP_CLOCK=auto: after each of a thread's samples, moves
// the thread between its periodic CPU-time timer and a perf task clock of its own
// as its behaviour since the previous sample asks (clock_choice.h).
// Contract: signal-safe (raw system calls, the thread's own pre-allocated state).
#pragma once

namespace racetrap {

struct ThreadState;

// signal-safe. In the calling thread `t`'s SIGTRAP handler, after a sampling tick
// of either clock (ClockPolicy::kByBehaviour only; otherwise nothing): reads its
// usage, and when choose_sample_clock says so, opens the perf clock and deletes
// the timer, or arms the timer and closes the perf clock. The new clock is in
// place before the old one goes, and a move the kernel refuses leaves the thread
// on the clock it has.
void reconsider_sample_clock(ThreadState& t);

}  // namespace racetrap
