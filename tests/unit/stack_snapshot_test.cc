// Unit tests for lib/stack_snapshot.h: a stack copied in one place and unwound
// later, after the frames it shows have returned and their stack was reused,
// gives the same return addresses as a live unwind at the same place.
#include <gtest/gtest.h>
#include <pthread.h>

#include <cstring>

#include "stack_capture.h"
#include "stack_snapshot.h"

namespace racetrap {
namespace {

struct StackBounds {
  uint64_t begin = 0, end = 0;
};

StackBounds current_stack() {
  StackBounds b;
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    void* addr = nullptr;
    size_t size = 0;
    if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
      b.begin = reinterpret_cast<uint64_t>(addr);
      b.end = b.begin + size;
    }
    pthread_attr_destroy(&attr);
  }
  return b;
}

// Both records are taken in the same frame: `live` by unwinding, `snapshot` by copying.
__attribute__((noinline)) bool take_both(StackSnapshot* snapshot, StackRecord* live) {
  const StackBounds b = current_stack();
  capture_current_stack(0, live);
  const bool ok = take_stack_snapshot(b.begin, b.end, snapshot);
  asm volatile("" ::: "memory");  // no tail call: this frame stays in both records
  return ok;
}

__attribute__((noinline)) bool nested(int depth, StackSnapshot* snapshot, StackRecord* live) {
  const bool ok = depth == 0 ? take_both(snapshot, live) : nested(depth - 1, snapshot, live);
  asm volatile("" ::: "memory");
  return ok;
}

// Overwrites the stack below the caller's frame (where the frames above were).
__attribute__((noinline)) void scribble() {
  volatile unsigned char junk[16384];
  std::memset(const_cast<unsigned char*>(junk), 0xa5, sizeof junk);
}

TEST(StackSnapshot, UnwindsLaterToTheSameCallers) {
  auto snapshot = std::make_unique<StackSnapshot>();
  StackRecord live{};
  ASSERT_TRUE(nested(3, snapshot.get(), &live));
  scribble();
  StackRecord later{};
  unwind_stack_snapshot(*snapshot, &later);
  // live[0] is take_both's call of capture_current_stack (adjusted into the call);
  // later[0] is inside take_stack_snapshot, later[1] take_both's call of it. From
  // take_both's caller on, both are the same return addresses.
  ASSERT_GE(live.frame_count, 5u);  // nested x4, the test body
  ASSERT_GE(later.frame_count, live.frame_count);
  for (uint32_t i = 1; i < live.frame_count; ++i) EXPECT_EQ(later.frames[i + 1], live.frames[i]) << "frame " << i;
}

TEST(StackSnapshot, RefusesAStackItIsNotOn) {
  auto snapshot = std::make_unique<StackSnapshot>();
  EXPECT_FALSE(take_stack_snapshot(0x1000, 0x2000, snapshot.get()));
}

}  // namespace
}  // namespace racetrap
