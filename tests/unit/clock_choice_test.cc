// clock_choice_test.cc — RACETRAP_CLOCK's policy and the by-behaviour choice
// between a thread's CPU-time timer and a perf clock (clock_choice.h).
#include "clock_choice.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <unistd.h>

#include <ctime>

namespace racetrap {
namespace {

constexpr auto kTimer = SampleClockKind::kCpuTimer;
constexpr auto kPerf = SampleClockKind::kPerf;

ThreadUsage usage(uint64_t cpu_us, uint64_t blocks, uint64_t preemptions = 0) {
  ThreadUsage u;
  u.cpu_us = cpu_us;
  u.voluntary_switches = blocks;
  u.involuntary_switches = preemptions;
  return u;
}

TEST(ClockPolicy, NamedClocksAreTakenAsGiven) {
  EXPECT_EQ(clock_policy_for("perf", 2000, 4000), ClockPolicy::kPerf);
  EXPECT_EQ(clock_policy_for("cpu-timer", 50, 4000), ClockPolicy::kCpuTimer);
}

TEST(ClockPolicy, AutoChoosesByBehaviourWhereTheTickIsAtMostTwoPeriods) {
  EXPECT_EQ(clock_policy_for("auto", 2000, 4000), ClockPolicy::kByBehaviour);  // the default at HZ=250
  EXPECT_EQ(clock_policy_for("auto", 4000, 4000), ClockPolicy::kByBehaviour);
  EXPECT_EQ(clock_policy_for("auto", 2000, 1000), ClockPolicy::kByBehaviour);  // HZ=1000
  EXPECT_EQ(clock_policy_for("auto", 1999, 4000), ClockPolicy::kPerf);
  EXPECT_EQ(clock_policy_for("auto", 500, 4000), ClockPolicy::kPerf);          // the tests' short periods
  EXPECT_EQ(clock_policy_for("auto", 2000, 10000), ClockPolicy::kPerf);        // HZ=100
  EXPECT_EQ(clock_policy_for("auto", 2000, 0), ClockPolicy::kPerf);            // tick unknown
}

TEST(ChooseSampleClock, ThreadThatRarelyBlocksMovesToPerf) {
  // 4 ms of CPU at a 2 ms period: no block, or one (one per two periods).
  EXPECT_EQ(choose_sample_clock(kTimer, usage(4000, 0), 2000), kPerf);
  EXPECT_EQ(choose_sample_clock(kTimer, usage(4000, 1), 2000), kPerf);
  EXPECT_EQ(choose_sample_clock(kTimer, usage(4000, 2), 2000), kTimer);
}

TEST(ChooseSampleClock, ThreadThatBlocksOftenStaysOnItsTimer) {
  // A creator joining a thread every 35 us of CPU: over a hundred blocks per tick.
  EXPECT_EQ(choose_sample_clock(kTimer, usage(4000, 114), 2000), kTimer);
}

TEST(ChooseSampleClock, ThreadWokenOverOftenStaysOnItsTimer) {
  // pigz's compressing threads: ~2 preemptions per ms of their CPU (the reading
  // and writing threads' wake-ups), each a stop and a start of a perf clock's timer.
  EXPECT_EQ(choose_sample_clock(kTimer, usage(4000, 0, 8), 2000), kTimer);
  EXPECT_EQ(choose_sample_clock(kPerf, usage(2000, 0, 4), 2000), kTimer);
  EXPECT_EQ(choose_sample_clock(kPerf, usage(2000, 0, 3), 2000), kTimer);
}

TEST(ChooseSampleClock, ThreadPreemptedAtItsSliceEndsTakesThePerfClock) {
  // More busy threads than CPUs: each preempted about once per 4 ms of its CPU.
  EXPECT_EQ(choose_sample_clock(kTimer, usage(4000, 0, 1), 2000), kPerf);
  EXPECT_EQ(choose_sample_clock(kTimer, usage(4000, 0, 3), 2000), kPerf);  // 1.5 a period
  EXPECT_EQ(choose_sample_clock(kTimer, usage(4000, 0, 4), 2000), kTimer);
  EXPECT_EQ(choose_sample_clock(kPerf, usage(2000, 0, 2), 2000), kPerf);
  // Blocks count on their own: one block per two periods and slice ends still perf.
  EXPECT_EQ(choose_sample_clock(kTimer, usage(4000, 1, 2), 2000), kPerf);
}

TEST(ChooseSampleClock, PerfThreadMovesBackOnlyWhenBlockingOften) {
  // Between the two thresholds (a factor of 4) the thread keeps the clock it has.
  EXPECT_EQ(choose_sample_clock(kPerf, usage(2000, 0), 2000), kPerf);
  EXPECT_EQ(choose_sample_clock(kPerf, usage(2000, 1), 2000), kPerf);
  EXPECT_EQ(choose_sample_clock(kTimer, usage(2000, 1), 2000), kTimer);
  EXPECT_EQ(choose_sample_clock(kPerf, usage(2000, 2), 2000), kTimer);
  EXPECT_EQ(choose_sample_clock(kPerf, usage(2000, 50), 2000), kTimer);
}

TEST(ChooseSampleClock, NoCpuTimeKeepsTheClock) {
  EXPECT_EQ(choose_sample_clock(kTimer, usage(0, 0), 2000), kTimer);
  EXPECT_EQ(choose_sample_clock(kPerf, usage(0, 9), 2000), kPerf);
}

TEST(UsageSince, CountersThatWentBackCountFromZero) {
  const ThreadUsage d = usage_since(usage(5000, 10, 4), usage(300, 2, 1));  // a forked child's thread
  EXPECT_EQ(d.cpu_us, 300u);
  EXPECT_EQ(d.voluntary_switches, 2u);
  EXPECT_EQ(d.involuntary_switches, 1u);
  const ThreadUsage e = usage_since(usage(5000, 10, 4), usage(9000, 13, 9));
  EXPECT_EQ(e.cpu_us, 4000u);
  EXPECT_EQ(e.voluntary_switches, 3u);
  EXPECT_EQ(e.involuntary_switches, 5u);
}

TEST(ReadThreadUsage, CountsTheCallingThreadsBlocksAndCpu) {
  ThreadUsage before, after;
  ASSERT_TRUE(read_thread_usage(&before));
  for (int i = 0; i < 5; ++i) usleep(1000);  // five voluntary switches at least
  const timespec start = [] {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts;
  }();
  for (;;) {  // 20 ms of this thread's CPU
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    if ((ts.tv_sec - start.tv_sec) * 1000000000L + (ts.tv_nsec - start.tv_nsec) >= 20000000L) break;
  }
  ASSERT_TRUE(read_thread_usage(&after));
  const ThreadUsage d = usage_since(before, after);
  EXPECT_GE(d.voluntary_switches, 5u);
  EXPECT_GE(d.cpu_us, 19000u);
}

TEST(PerfTopUpPeriod, PerfSamplesWhatTheTicksLeave) {
  // The default 2 ms at HZ=250: the ticks give one sample per 4 ms, a perf clock at
  // 4 ms the other; together one per 2 ms.
  EXPECT_EQ(perf_top_up_period_us(2000, 4000), 4000u);
  EXPECT_EQ(perf_top_up_period_us(3000, 4000), 12000u);  // 1/3000 = 1/4000 + 1/12000
  EXPECT_EQ(perf_top_up_period_us(2000, 3333), 5000u);   // HZ=300 (3333 us), rounded down
}

TEST(PerfTopUpPeriod, NoneWhereTheTicksSampleEveryPeriod) {
  EXPECT_EQ(perf_top_up_period_us(4000, 4000), 0u);
  EXPECT_EQ(perf_top_up_period_us(2000, 1000), 0u);  // HZ=1000
  EXPECT_EQ(perf_top_up_period_us(2000, 0), 0u);     // tick unknown
  EXPECT_EQ(perf_top_up_period_us(0, 4000), 0u);
}

}  // namespace
}  // namespace racetrap
