// Unit tests for lib/engine/stack_capture.h: the uncached capture (a cursor walk,
// no libunwind frame cache) gives the same frames as the cached one
// (unw_backtrace) taken in the same function, starting with that function.
#include <gtest/gtest.h>

#include "stack_capture.h"

namespace racetrap {
namespace {

struct Both {
  StackRecord cached{};
  StackRecord uncached{};
  uint64_t return_address = 0;  // where capture_both returns to (in its caller)
};

__attribute__((noinline)) void capture_both(Both* out) {
  capture_current_stack(0, &out->cached);
  capture_current_stack_uncached(0, &out->uncached);
  out->return_address = reinterpret_cast<uint64_t>(__builtin_return_address(0));
  asm volatile("" ::: "memory");  // no tail call: this frame stays in both records
}

__attribute__((noinline)) void nested(int depth, Both* out) {
  if (depth == 0) {
    capture_both(out);
  } else {
    nested(depth - 1, out);
  }
  asm volatile("" ::: "memory");
}

TEST(StackCapture, UncachedGivesTheCachedFrames) {
  init_stack_capture();
  Both both;
  nested(3, &both);
  ASSERT_GE(both.cached.frame_count, 5u);
  ASSERT_EQ(both.cached.frame_count, both.uncached.frame_count);
  // frames[0]: inside capture_both (two call sites, a few bytes apart); frames[1]:
  // the return into its caller; the rest the same return addresses.
  EXPECT_NE(both.cached.frames[0], both.uncached.frames[0]);
  EXPECT_LT(both.cached.frames[0], both.uncached.frames[0]);
  EXPECT_LT(both.uncached.frames[0] - both.cached.frames[0], 256u);
  EXPECT_EQ(both.cached.frames[1], both.return_address);
  for (uint32_t i = 1; i < both.cached.frame_count; ++i) EXPECT_EQ(both.cached.frames[i], both.uncached.frames[i]) << i;
}

TEST(StackCapture, SkipDropsInnermostFrames) {
  init_stack_capture();
  StackRecord all{}, skipped{};
  capture_current_stack_uncached(0, &all);
  capture_current_stack_uncached(1, &skipped);
  ASSERT_GE(all.frame_count, 2u);
  ASSERT_EQ(skipped.frame_count + 1, all.frame_count);
  // skipped.frames[0] is the call site one frame up, made exact (-1) as frames[0] always is.
  EXPECT_EQ(skipped.frames[0], all.frames[1] - 1);
}

}  // namespace
}  // namespace racetrap
