// first_tick_timer.h — a thread's first sampling tick from a POSIX CPU-time timer,
// so that the perf sampling clock is opened only by threads that live that long.
// A task-clock perf event costs about 11 us of CPU to open and close, a one-shot
// CLOCK_THREAD_CPUTIME_ID timer about 3 us; a thread (or a process) that uses
// less CPU than one sample period is never sampled at all, so for it the perf
// event was pure start-up cost. The timer sends SIGTRAP to its thread
// (SIGEV_THREAD_ID, si_code SI_TIMER) after one period of the thread's CPU time,
// tagged in si_value so the handler tells it from the program's own timers; the
// handler then opens the perf clock (which samples from there on) and takes the
// first sample itself, so every thread is sampled on the same schedule as before.
// The first tick may come sooner than a period (`first_us`): a new thread's comes
// after a random part of one (ThreadState::first_tick_us), so a thread that lives
// less than a period of CPU is sampled with odds that grow with its CPU time (as
// far as a scheduler tick comes while it runs after the time drawn), not never.
// With RACETRAP_CLOCK=cpu-timer the timer is periodic and is the thread's only
// sampling clock: no perf task clock, whose hrtimer the kernel starts and cancels
// at every switch of its thread (bench/results/overhead-spawn-2026-11-29-spawn2.md);
// the kernel checks CPU-time timers at the scheduler tick, so it fires at most once
// per tick.
// Contract: arm, cancel, forget and is_first_tick are signal-safe (raw syscalls, no
// allocation, errno preserved): with RACETRAP_CLOCK=auto a thread's handler re-arms
// it (clock_switch.h).
#pragma once

#include <signal.h>
#include <time.h>

#include <cstdint>

namespace racetrap {

class FirstTickTimer {
 public:
  // signal-safe. Arms a timer on the calling thread's CPU time (os_tid: its kernel thread id)
  // that sends it SIGTRAP after first_us (0: period_us), once, or then every
  // period_us when `periodic`. False (nothing armed) when the kernel refuses (e.g.
  // RLIMIT_SIGPENDING reached): the caller opens the perf clock at once instead.
  bool arm(uint64_t period_us, uint32_t os_tid, bool periodic = false, uint64_t first_us = 0) {
    return arm_on(CLOCK_THREAD_CPUTIME_ID, period_us, os_tid, periodic, first_us);
  }
  // signal-safe. The same on `cpu_clock`, the CPU-time clock of thread os_tid of
  // this process (pthread_getcpuclockid): another thread, its creator, arms it
  // for it. The timer's id is stored before it is armed, so its first tick finds it.
  bool arm_on(clockid_t cpu_clock, uint64_t period_us, uint32_t os_tid, bool periodic, uint64_t first_us = 0);
  // signal-safe. Deletes the timer if it is still armed (a signal already queued
  // by it is then ignored by is_first_tick's caller: nothing is pending any more).
  void cancel();
  // signal-safe. In a forked child: the parent's timer does not exist here
  // (timers are not inherited); drop the id without deleting anything.
  void forget() { id_ = kNone; }
  bool pending() const { return id_ != kNone; }
  // signal-safe. Armed periodic: every tick is a sample, the timer stays.
  bool periodic() const { return periodic_; }

 private:
  static constexpr int kNone = -1;
  int id_ = kNone;
  bool periodic_ = false;
};

// signal-safe. True when this SIGTRAP was sent by a racetrap first-tick timer.
bool is_first_tick(const siginfo_t* info);

}  // namespace racetrap
