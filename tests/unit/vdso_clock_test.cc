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

TEST(VdsoClock, ReadsTheMonotonicClockGlibcReads) {
  timespec before_lookup{};
  ASSERT_EQ(vdso_clock_gettime(CLOCK_MONOTONIC, &before_lookup), 0);  // the system call
  look_up_vdso_clock();
  for (int i = 0; i < 1000; ++i) {
    timespec before{}, ours{}, after{};
    ASSERT_EQ(clock_gettime(CLOCK_MONOTONIC, &before), 0);
    ASSERT_EQ(vdso_clock_gettime(CLOCK_MONOTONIC, &ours), 0);
    ASSERT_EQ(clock_gettime(CLOCK_MONOTONIC, &after), 0);
    EXPECT_LE(ns(before), ns(ours));
    EXPECT_LE(ns(ours), ns(after));
  }
}

TEST(VdsoClock, ReadsTheRealtimeClockToo) {
  look_up_vdso_clock();
  timespec before{}, ours{}, after{};
  ASSERT_EQ(clock_gettime(CLOCK_REALTIME, &before), 0);
  ASSERT_EQ(vdso_clock_gettime(CLOCK_REALTIME, &ours), 0);
  ASSERT_EQ(clock_gettime(CLOCK_REALTIME, &after), 0);
  EXPECT_LE(ns(before), ns(ours));
  EXPECT_LE(ns(ours), ns(after));
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
