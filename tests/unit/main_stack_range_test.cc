// main_stack_range_test.cc — the preload's hand-parsed main-thread stack range
// (preload/lifecycle/main_stack_range.h) is the range glibc's pthread_getattr_np
// gives, at the process's own stack limit and at lowered ones. gtest runs the
// tests on the main thread.
#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

#include "main_stack_range.h"

namespace racetrap {
namespace {

struct Range {
  uint64_t begin = 0, end = 0;
};

Range glibc_range() {
  Range r;
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return r;
  void* addr = nullptr;
  size_t size = 0;
  if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
    r.begin = reinterpret_cast<uint64_t>(addr);
    r.end = r.begin + size;
  }
  pthread_attr_destroy(&attr);
  return r;
}

TEST(MainStackRange, IsWhatPthreadGetattrNpGives) {
  ASSERT_EQ(syscall(SYS_gettid), getpid()) << "gtest must run this on the main thread";
  const Range expected = glibc_range();
  ASSERT_NE(expected.end, 0u);
  Range r;
  ASSERT_TRUE(main_thread_stack_range(&r.begin, &r.end));
  EXPECT_EQ(r.begin, expected.begin);
  EXPECT_EQ(r.end, expected.end);
}

TEST(MainStackRange, FollowsALoweredStackLimit) {
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_STACK, &saved), 0);
  for (rlim_t limit : {rlim_t{1} << 20, rlim_t{3} << 20}) {
    if (saved.rlim_cur != RLIM_INFINITY && limit >= saved.rlim_cur) continue;
    rlimit lowered = saved;
    lowered.rlim_cur = limit;
    ASSERT_EQ(setrlimit(RLIMIT_STACK, &lowered), 0);
    const Range expected = glibc_range();
    Range r;
    const bool ok = main_thread_stack_range(&r.begin, &r.end);
    ASSERT_EQ(setrlimit(RLIMIT_STACK, &saved), 0);
    ASSERT_TRUE(ok);
    EXPECT_EQ(r.begin, expected.begin) << "limit " << limit;
    EXPECT_EQ(r.end, expected.end) << "limit " << limit;
    EXPECT_LE(r.end - r.begin, limit);
  }
}

}  // namespace
}  // namespace racetrap
