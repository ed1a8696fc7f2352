// Unit tests for lib/engine/vdso_clock.h: the vDSO's clock and the raw system
// calls give what glibc's wrappers give.
#include <gtest/gtest.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>

#include "vdso_clock.h"

namespace racetrap {
namespace {

uint64_t ns(const timespec& t) { return static_cast<uint64_t>(t.tv_sec) * 1000000000ull + t.tv_nsec; }

// vdso_clock_gettime(clock) falls between two reads of glibc's clock_gettime.
void expect_between_glibc_reads(clockid_t clock) {
  timespec before{}, ours{}, after{};
  ASSERT_EQ(clock_gettime(clock, &before), 0);
  ASSERT_EQ(vdso_clock_gettime(clock, &ours), 0);
  ASSERT_EQ(clock_gettime(clock, &after), 0);
  EXPECT_LE(ns(before), ns(ours));
  EXPECT_LE(ns(ours), ns(after));
}

TEST(VdsoClock, ReadsTheMonotonicClockGlibcReads) {
  expect_between_glibc_reads(CLOCK_MONOTONIC);  // the system call, unless a test before looked the vDSO up
  look_up_vdso_clock();
  for (int i = 0; i < 1000; ++i) expect_between_glibc_reads(CLOCK_MONOTONIC);
}

TEST(VdsoClock, ReadsTheRealtimeClockToo) {
  look_up_vdso_clock();
  expect_between_glibc_reads(CLOCK_REALTIME);
}

TEST(VdsoClock, RawCallsAnswerAsGlibc) {
  EXPECT_EQ(raw_getpid(), getpid());
  timespec ours{}, theirs{};
  ASSERT_EQ(raw_clock_getres(CLOCK_REALTIME_COARSE, &ours), 0);
  ASSERT_EQ(clock_getres(CLOCK_REALTIME_COARSE, &theirs), 0);
  EXPECT_EQ(ours.tv_sec, theirs.tv_sec);
  EXPECT_EQ(ours.tv_nsec, theirs.tv_nsec);
  raw_sched_yield();  // returns
}

}  // namespace
}  // namespace racetrap
