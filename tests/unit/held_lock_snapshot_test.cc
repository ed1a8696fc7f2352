// held_lock_snapshot_test.cc — the fixed-size copy of a thread's held locks that
// goes into a watch and a race record: bounded, ordered, honest about what it
// left out, and "unknown" (not "none") when lock tracking is off.
#include "held_lock_snapshot.h"

#include <gtest/gtest.h>

#include <cstring>

namespace racetrap {
namespace {

TEST(HeldLockSnapshot, CopiesAddressModeAndCallSite) {
  HeldLocks held;
  held.push(0x1000, 0x401000, 0, HeldMode::kMutex);
  held.push(0x2000, 0x402000, 0, HeldMode::kRead);
  held.push(0x3000, 0x403000, 0, HeldMode::kWrite);
  HeldLocksRecord r;
  snapshot_held_locks(held, /*known=*/true, &r);
  EXPECT_EQ(r.flags, kLocksKnown);
  EXPECT_EQ(r.total, 3u);
  EXPECT_EQ(r.locks[0].address, 0x1000u);
  EXPECT_EQ(r.locks[0].pc, 0x401000u);
  EXPECT_EQ(r.locks[0].mode, static_cast<uint8_t>(HeldMode::kMutex));
  EXPECT_EQ(r.locks[1].address, 0x2000u);
  EXPECT_EQ(r.locks[1].mode, static_cast<uint8_t>(HeldMode::kRead));
  EXPECT_EQ(r.locks[2].address, 0x3000u);
  EXPECT_EQ(r.locks[2].mode, static_cast<uint8_t>(HeldMode::kWrite));
  EXPECT_EQ(r.locks[3].address, 0u);
}

TEST(HeldLockSnapshot, KeepsTheFirstFewAndCountsAll) {
  HeldLocks held;
  for (uint64_t i = 1; i <= 6; ++i) held.push(0x1000 * i, 0x400000 + i, 0, HeldMode::kMutex);
  held.push(0x1000, 0x999, 0, HeldMode::kMutex);  // a recursive relock: still one lock
  HeldLocksRecord r;
  snapshot_held_locks(held, true, &r);
  EXPECT_EQ(r.total, 6u);
  for (int i = 0; i < kMaxRecordedLocks; ++i) EXPECT_EQ(r.locks[i].address, 0x1000u * (i + 1));
  EXPECT_EQ(r.locks[0].pc, 0x400001u);  // the first acquisition's call site
}

TEST(HeldLockSnapshot, CountsLocksPastTheTrackingCapacity) {
  HeldLocks held;
  for (uint64_t i = 1; i <= kMaxHeldLocks + 3; ++i) held.push(0x100 * i, 1, 0, HeldMode::kMutex);
  HeldLocksRecord r;
  snapshot_held_locks(held, true, &r);
  EXPECT_EQ(r.total, static_cast<uint32_t>(kMaxHeldLocks + 3));
}

TEST(HeldLockSnapshot, NoneHeldIsKnownEmpty) {
  HeldLocks held;
  held.push(0x1000, 1, 0, HeldMode::kMutex);
  held.pop(0x1000);
  HeldLocksRecord r;
  r.total = 77;
  snapshot_held_locks(held, true, &r);
  EXPECT_EQ(r.flags, kLocksKnown);
  EXPECT_EQ(r.total, 0u);
  EXPECT_EQ(r.locks[0].address, 0u);
}

TEST(HeldLockSnapshot, TrackingOffIsUnknown) {
  HeldLocks held;
  held.push(0x1000, 1, 0, HeldMode::kMutex);
  HeldLocksRecord r;
  snapshot_held_locks(held, /*known=*/false, &r);
  const HeldLocksRecord zero{};
  EXPECT_EQ(std::memcmp(&r, &zero, sizeof r), 0);
}

TEST(HeldLockSnapshot, TrackedWhenEitherLockFeatureIsOn) {
  Flags f;
  f.detect_deadlocks = false;
  f.report_misuse = false;
  EXPECT_FALSE(held_locks_tracked(f));
  f.report_misuse = true;
  EXPECT_TRUE(held_locks_tracked(f));
  f.report_misuse = false;
  f.detect_deadlocks = true;
  EXPECT_TRUE(held_locks_tracked(f));
}

}  // namespace
}  // namespace racetrap
