// clock_generation_test.cc — the clock generation (vector_clock.h) and the
// per-thread record of objects seen in step with the thread (synced_objects.h):
// the lock path skips the sync table while the generation stays, so every change
// of any clock's content must move it, and an operation that changes nothing may
// leave it.
#include <gtest/gtest.h>

#include "clock_builders.h"
#include "object_clock.h"
#include "synced_objects.h"
#include "vector_clock.h"

namespace racetrap {
namespace {

using testing::make_clock;

// Runs `change` and says whether the generation moved.
template <typename F>
bool moves_generation(F change) {
  const uint64_t before = clock_generation();
  change();
  return clock_generation() != before;
}

TEST(ClockGeneration, EveryThreadClockChangeMovesIt) {
  VectorClock a = make_clock({1, 2});
  VectorClock b = make_clock({3, 1});
  EXPECT_TRUE(moves_generation([&] { a.tick(0); }));           // a sample's tick
  EXPECT_TRUE(moves_generation([&] { a.set(5, 7); }));         // a new slot
  EXPECT_TRUE(moves_generation([&] { a.join(b); }));           // a join that adds epochs (new id)
  VectorClock low = make_clock({1, 1});
  VectorClock high = make_clock({4, 4});
  EXPECT_TRUE(moves_generation([&] { low.join(high); }));      // becomes equal to high: takes its id
  EXPECT_EQ(low.id(), high.id());
  VectorClock c;
  EXPECT_TRUE(moves_generation([&] { c.assign(high); }));      // takes high's id
  EXPECT_TRUE(moves_generation([&] { c.clear(); }));
}

TEST(ClockGeneration, UnchangedClocksLeaveIt) {
  VectorClock a = make_clock({4, 4});
  VectorClock b = make_clock({1, 2});
  VectorClock same;
  same.assign(a);
  EXPECT_FALSE(moves_generation([&] { a.join(b); }));     // nothing later in b
  EXPECT_FALSE(moves_generation([&] { a.join(same); }));  // the same id
  EXPECT_FALSE(moves_generation([&] { a.set(0, 4); }));   // the epoch it has
  VectorClock empty;
  EXPECT_FALSE(moves_generation([&] { empty.clear(); }));
}

TEST(ClockGeneration, EveryObjectClockChangeMovesIt) {
  ObjectClock o;
  VectorClock t = make_clock({2, 3});
  EXPECT_TRUE(moves_generation([&] { o.release_from(t); }));  // empty -> t's content (t's id)
  EXPECT_EQ(o.id(), t.id());
  EXPECT_FALSE(moves_generation([&] { o.release_from(t); }));  // the same content
  VectorClock u = make_clock({1, 5});
  EXPECT_TRUE(moves_generation([&] { o.release_from(u); }));  // max of both: a new id
  VectorClock after = make_clock({9, 9});
  EXPECT_TRUE(moves_generation([&] { o.release_from(after); }));  // becomes after's content: its id
  EXPECT_TRUE(moves_generation([&] { o.clear(); }));              // destroyed
  EXPECT_FALSE(moves_generation([&] { o.clear(); }));
  // An acquire changes the thread's clock, not the object's: moved by the thread.
  o.release_from(after);
  VectorClock v = make_clock({1});
  EXPECT_TRUE(moves_generation([&] { o.acquire_into(v); }));
  EXPECT_FALSE(moves_generation([&] { o.acquire_into(v); }));
}

TEST(SyncedObjects, KnowsAnObjectOnlyAtTheGenerationItWasNotedAt) {
  SyncedObjects s;
  const uintptr_t m = 0x7f0000001040;
  EXPECT_FALSE(s.knows(m, 5));
  s.note(m, 5);
  EXPECT_TRUE(s.knows(m, 5));
  EXPECT_FALSE(s.knows(m, 6));
  EXPECT_FALSE(s.knows(m + 64, 5));
  s.clear();
  EXPECT_FALSE(s.knows(m, 5));
}

TEST(SyncedObjects, ObjectsOfOtherIndexesStayAndTheSameIndexEvicts) {
  // Which of a run of neighbouring objects share an entry: told apart by noting
  // each alone in a fresh record and probing the others.
  const uintptr_t base = 0x55550000a000;
  uintptr_t first = base, same = 0, other = 0;
  for (uintptr_t i = 1; i < 256 && (same == 0 || other == 0); ++i) {
    const uintptr_t o = base + i * 104;
    SyncedObjects probe;
    probe.note(first, 3);
    probe.note(o, 3);
    if (probe.knows(first, 3)) other = other == 0 ? o : other;
    else same = same == 0 ? o : same;
  }
  ASSERT_NE(same, 0u);
  ASSERT_NE(other, 0u);
  SyncedObjects s;
  s.note(first, 3);
  s.note(other, 3);
  EXPECT_TRUE(s.knows(first, 3));
  EXPECT_TRUE(s.knows(other, 3));
  s.note(same, 3);
  EXPECT_FALSE(s.knows(first, 3));
  EXPECT_TRUE(s.knows(same, 3));
  EXPECT_TRUE(s.knows(other, 3));
}

}  // namespace
}  // namespace racetrap
