// clock_choice.h — which sampling clock a thread should run on, chosen by how it
// behaves (RACETRAP_CLOCK=auto). Two clocks can sample a thread's CPU time:
// - a perf task clock samples at the exact period, but the kernel starts and
//   cancels its hrtimer whenever the thread is switched in and out, whether it
//   blocked or was preempted; on a VM whose timer-device writes exit to the host
//   that is 5-8 us per write, two per switch out and back in
//   (bench/results/overhead-spawn-2026-11-29-spawn2.md);
// - a POSIX CPU-time timer costs nothing at switches, but the kernel checks it at
//   the scheduler tick: at most one sample per tick.
// A thread that blocks rarely per period of CPU (a CPU-bound worker) is worth the
// perf clock; one that blocks often (a thread creating and joining threads, a
// lock-heavy worker) or dies young is not. Preemptions cost the perf clock the
// same as blocks, but a CPU-bound thread on a busy machine is preempted only at
// the end of its time slices (measured here with 4 and 8 spinning threads on 2
// CPUs: once per ~4 ms of its CPU, 0.5 a period), and keeps the clock; one woken
// over by the other threads of its
// program several times per period is not worth it (pigz's compressing threads,
// ~2 preemptions per ms of their CPU by the reading and writing threads' wake-ups:
// a bare 4 ms perf clock costs pigz 2.3% of its CPU, pbzip2, preempted ~0.1 times
// per ms, 0.8%). The choice is made at the thread's own samples from its context
// switches and CPU time since the previous one.
// Contract: everything here is signal-safe (a raw getrusage, arithmetic).
#pragma once

#include <cstdint>

namespace racetrap {

enum class SampleClockKind : uint8_t { kCpuTimer, kPerf };

// What samples each thread of a process:
// - kPerf: a perf task clock, opened at the thread's first tick (a one-shot
//   CPU-time timer); the main thread's is inherited by the threads created after it;
// - kCpuTimer: each thread's periodic CPU-time timer, nothing else;
// - kByBehaviour: each thread starts on its CPU-time timer and adds a perf clock
//   of its own (not inherited) when it is switched out rarely, closing it again
//   when it is switched out often (choose_sample_clock); the timer stays, so the
//   perf clock only
//   tops the samples up to one per period (perf_top_up_period_us).
enum class ClockPolicy : uint8_t { kPerf, kCpuTimer, kByBehaviour };

// The policy for RACETRAP_CLOCK (`auto`, `perf`, `cpu-timer`) at a sample period of
// period_us, where the scheduler tick is tick_us (0: unknown). `auto` chooses by
// behaviour when the tick is at most two periods, so a thread on its timer samples
// at least half as often as asked; at shorter periods (the tests' 50-500 us) a
// timer would sample far less often than asked: the perf clock from the first tick.
ClockPolicy clock_policy_for(const char* clock_flag, uint64_t period_us, uint64_t tick_us);

// A thread's CPU time and context switches so far.
struct ThreadUsage {
  uint64_t cpu_us = 0;
  uint64_t voluntary_switches = 0;    // blocks
  uint64_t involuntary_switches = 0;  // preemptions
  uint64_t minor_faults = 0;          // for the fault pause (preload/signal/fault_burst.h)
};

// The thresholds, per sample period of CPU time since the thread's last sample.
// Blocks: a thread on the CPU-time timer moves to the perf clock when it blocked
// at most once per kToPerfPeriodsPerBlock periods, and one on the perf clock moves
// back when it blocked kToTimerBlocksPerPeriod times per period or more.
// Preemptions: to the perf clock at kToPerfPreemptionsPerTwoPeriods per two
// periods or fewer (1.5 a period, three times a busy machine's slice ends), back
// to the timer at kToTimerPreemptionsPerPeriod per period or more. A factor
// between each pair, so a thread near one threshold does not flap.
constexpr uint64_t kToPerfPeriodsPerBlock = 2;
constexpr uint64_t kToTimerBlocksPerPeriod = 2;
constexpr uint64_t kToPerfPreemptionsPerTwoPeriods = 3;
constexpr uint64_t kToTimerPreemptionsPerPeriod = 3;

// signal-safe. The clock a thread on `current` should sample on from now, given
// what it did since its previous sample (`since`: usage now minus usage then) and
// the sample period. A span with no CPU time keeps the current clock.
SampleClockKind choose_sample_clock(SampleClockKind current, ThreadUsage since, uint64_t period_us);

// The period of the perf clock a thread on its CPU-time timer adds under
// kByBehaviour. The timer, checked at the scheduler tick, samples a running thread
// at most once per tick, and a tick's sample costs the thread next to nothing (the
// interrupt happens anyway); a perf clock sample brings an interrupt of its own
// (15.7 us on the VM measured: bench/sample_clock_cost). So the timer stays and the
// perf clock samples only what the ticks leave: 1/period - 1/tick samples per
// microsecond, a period of period * tick / (tick - period) (4 ms for the default
// 2 ms at HZ=250, half the perf clock's interrupts of a CPU-bound thread). 0 when
// the ticks alone sample every period (tick_us <= period_us) or the tick is unknown.
uint64_t perf_top_up_period_us(uint64_t period_us, uint64_t tick_us);

// signal-safe. The calling thread's usage (getrusage RUSAGE_THREAD, a raw system
// call); false when the kernel refuses.
bool read_thread_usage(ThreadUsage* out);

// The usage between `earlier` and `later` of one thread; a counter that went
// backwards (a forked child's thread starts from zero) counts from zero.
inline ThreadUsage usage_since(ThreadUsage earlier, ThreadUsage later) {
  ThreadUsage d;
  const auto counted = [](uint64_t before, uint64_t after) { return after >= before ? after - before : after; };
  d.voluntary_switches = counted(earlier.voluntary_switches, later.voluntary_switches);
  d.involuntary_switches = counted(earlier.involuntary_switches, later.involuntary_switches);
  d.cpu_us = counted(earlier.cpu_us, later.cpu_us);
  return d;
}

}  // namespace racetrap
