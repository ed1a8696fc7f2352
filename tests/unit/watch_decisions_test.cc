// watch_decisions_test.cc — build_watch and should_arm, the decisions the sampler
// and arming make (and the interleaving tests drive).
#include "watch_decisions.h"

#include <gtest/gtest.h>

namespace racetrap {
namespace {

MemoryAccess access_at(uint64_t address, uint32_t size, AccessKind kind) {
  MemoryAccess a;
  a.pc = 0x401000;
  a.address = address;
  a.size = size;
  a.kind = kind;
  return a;
}

TEST(WatchDecisions, BuildWatchCoversTheAccessWithTheRightRegisterType) {
  VectorClock clock;
  clock.set(3, 17);
  Watch w;
  build_watch(access_at(0x5002, 2, AccessKind::kWrite), WatchOwner{9, 3, 1009, &clock}, 1234, &w);
  EXPECT_EQ(w.bp_address, 0x5002u);
  EXPECT_EQ(w.bp_size, 2u);
  EXPECT_EQ(w.bp_type, BreakpointType::kReadWrite);  // a sampled write: any access conflicts
  EXPECT_EQ(w.owner_uid, 9u);
  EXPECT_EQ(w.owner_slot, 3u);
  EXPECT_EQ(w.owner_tid, 1009u);
  EXPECT_EQ(w.owner_epoch, 18u);  // the sample starts a new epoch of its owner
  EXPECT_EQ(clock.get(3), 18u);
  EXPECT_EQ(w.published_ns, 1234u);
  EXPECT_EQ(w.access.address, 0x5002u);

  build_watch(access_at(0x5003, 8, AccessKind::kRead), WatchOwner{9, 3, 1009, &clock}, 1234, &w);
  EXPECT_EQ(w.bp_type, BreakpointType::kWrite);  // a sampled read: only writes conflict
  EXPECT_EQ(w.bp_address, 0x5000u);  // wider than one block: the 8-byte block of its first byte
  EXPECT_EQ(w.bp_size, 8u);
}

TEST(WatchDecisions, ShouldArmOnlyWatchesThatCanStillRace) {
  VectorClock owner_clock;
  owner_clock.set(1, 5);
  Watch w;
  build_watch(access_at(0x6000, 8, AccessKind::kWrite), WatchOwner{1, 1, 101, &owner_clock}, 0, &w);

  VectorClock mine;
  mine.set(2, 1);
  EXPECT_TRUE(should_arm(w, 7, /*my_uid=*/2, mine, /*done_generation=*/0));
  EXPECT_FALSE(should_arm(w, 0, 2, mine, 0));   // empty slot
  EXPECT_FALSE(should_arm(w, 7, 1, mine, 0));   // its own watch
  EXPECT_FALSE(should_arm(w, 7, 2, mine, 7));   // already trapped on this generation
  EXPECT_TRUE(should_arm(w, 8, 2, mine, 7));    // a new generation in the same slot
  mine.set(1, 5);
  EXPECT_TRUE(should_arm(w, 7, 2, mine, 0));    // knows the owner only up to before the sample
  mine.set(1, 6);
  EXPECT_FALSE(should_arm(w, 7, 2, mine, 0));   // the sample happens-before this thread now
}

// What the owner released before its sample carries an epoch below the watch's
// (releases do not tick, the sample does): a thread that acquired it still arms.
TEST(WatchDecisions, ReleaseBeforeTheSampleDoesNotOrderTheWatch) {
  VectorClock owner_clock;
  owner_clock.set(1, 5);
  VectorClock mine;
  mine.set(2, 1);
  mine.join(owner_clock);  // acquired what the owner released before sampling
  Watch w;
  build_watch(access_at(0x6000, 8, AccessKind::kWrite), WatchOwner{1, 1, 101, &owner_clock}, 0, &w);
  EXPECT_TRUE(should_arm(w, 7, 2, mine, 0));
  mine.join(owner_clock);  // acquired what the owner released after sampling
  EXPECT_FALSE(should_arm(w, 7, 2, mine, 0));
}

}  // namespace
}  // namespace racetrap
