// missed_tick.h — the ticks a creator's shared clock does not give it.
//
// A thread whose sampling clock the threads it creates inherit
// (ThreadState::clock_root, passes_clock_on) shares cloned perf contexts with
// them. When it switches straight to such a child on its CPU, and back, the kernel
// swaps the two contexts instead of stopping and starting the clocks, so a
// creator that joins each short-lived child goes on with the child's count, its
// period started over: one that runs a little of its own code between joins
// (fill the data, create a worker, join it, read the result) is almost never
// sampled, however much CPU time it uses in all. At each join such a thread
// compares its CPU time with the ticks it got, and when a whole period of it went
// by without one, it sends itself the tick: the access its program makes after
// the join is sampled (a deferred sample, deferred_sample.h).
#pragma once

namespace racetrap {
struct ThreadState;

// Ordinary context, at the end of a successful join, inside the interposer's
// RuntimeScope, after the join's edge (mark_deferrable made): `t` is the calling
// thread. One thread CPU-time read (a system call: the vDSO passes that clock on)
// when `t` passes its clock on, nothing otherwise.
void take_missed_tick_at_join(ThreadState& t);

}  // namespace racetrap
