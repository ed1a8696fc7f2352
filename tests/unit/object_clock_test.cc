// object_clock_test.cc — one sync object's clock and its sole-releaser shortcut
// (lib/engine/object_clock.h): every shortcut must give exactly the clock the full join
// gives, and the cases where skipping the join would be wrong must still join.
#include "object_clock.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "clock_builders.h"

namespace racetrap {
namespace {

using testing::make_clock;

std::vector<Epoch> epochs_of(const VectorClock& c, uint32_t n) {
  std::vector<Epoch> v;
  for (uint32_t i = 0; i < n; ++i) v.push_back(c.get(i));
  return v;
}
std::vector<Epoch> epochs_of(const ObjectClock& c, uint32_t n) {
  std::vector<Epoch> v;
  for (uint32_t i = 0; i < n; ++i) v.push_back(c.get(i));
  return v;
}

// Zero bytes are an empty clock: the table's entries are never constructed.
TEST(ObjectClock, ZeroBytesAreAnEmptyClock) {
  alignas(ObjectClock) unsigned char raw[sizeof(ObjectClock)];
  std::memset(raw, 0, sizeof raw);
  auto* c = reinterpret_cast<ObjectClock*>(raw);
  EXPECT_EQ(c->size(), 0u);
  EXPECT_EQ(c->sole_releaser(), ObjectClock::kNobody);
  VectorClock t = make_clock({4, 5});
  c->acquire_into(t, 1);
  EXPECT_EQ(epochs_of(t, 3), (std::vector<Epoch>{4, 5, 0}));
  c->release_from(t, 1);
  EXPECT_EQ(epochs_of(*c, 3), (std::vector<Epoch>{4, 5, 0}));
  c->free_storage();
}

TEST(ObjectClock, ReleaseJoinsAndAcquireTransfers) {
  ObjectClock o;
  VectorClock a = make_clock({5, 0, 1});
  VectorClock b = make_clock({1, 7});
  o.release_from(a, 1);
  o.release_from(b, 2);
  EXPECT_EQ(epochs_of(o, 3), (std::vector<Epoch>{5, 7, 1}));
  VectorClock c = make_clock({0, 0, 0, 9});
  o.acquire_into(c, 3);
  EXPECT_EQ(epochs_of(c, 4), (std::vector<Epoch>{5, 7, 1, 9}));
  o.free_storage();
}

// The releaser that covers everything becomes the sole releaser; one that does
// not know an epoch of the clock does not.
TEST(ObjectClock, SoleReleaserOnlyWhenItCoversTheClock) {
  ObjectClock o;
  VectorClock a = make_clock({5, 0});
  o.release_from(a, 1);
  EXPECT_EQ(o.sole_releaser(), 1u);  // the clock was empty
  VectorClock b = make_clock({0, 3});
  o.release_from(b, 2);
  EXPECT_EQ(o.sole_releaser(), ObjectClock::kNobody);  // b does not know a's 5
  VectorClock c = make_clock({6, 4});
  o.release_from(c, 3);
  EXPECT_EQ(o.sole_releaser(), 3u);  // c covers {5, 3}
  o.release_from(a, ObjectClock::kNobody);  // anonymous: never a sole releaser
  EXPECT_EQ(o.sole_releaser(), ObjectClock::kNobody);
  o.release_from(c, 3);
  EXPECT_EQ(o.sole_releaser(), 3u);
  o.clear();
  EXPECT_EQ(o.sole_releaser(), ObjectClock::kNobody);
  EXPECT_EQ(o.size(), 0u);
  o.free_storage();
}

// A releases, then B releases without having acquired (a semaphore post, a
// condition signal): A's wait must still see B's release. Skipping A's acquire
// because A released last would lose the edge.
TEST(ObjectClock, AcquireAfterAnotherThreadsReleaseStillJoins) {
  ObjectClock o;
  VectorClock a = make_clock({10, 0});
  VectorClock b = make_clock({0, 20});
  o.release_from(b, 2);  // B posts
  o.release_from(a, 1);  // A posts: A does not cover B's 20
  EXPECT_FALSE(o.covered_for(1));
  o.acquire_into(a, 1);  // A waits
  EXPECT_EQ(a.get(1), 20u) << "the edge from B's release was skipped";
  o.free_storage();
}

TEST(ObjectClock, OtherThreadsAcquireIsNeverSkipped) {
  ObjectClock o;
  VectorClock a = make_clock({10, 0});
  o.release_from(a, 1);
  ASSERT_TRUE(o.covered_for(1));
  EXPECT_FALSE(o.covered_for(2));
  EXPECT_FALSE(o.covered_for(ObjectClock::kNobody));
  VectorClock b = make_clock({0, 3});
  o.acquire_into(b, 2);
  EXPECT_EQ(epochs_of(b, 2), (std::vector<Epoch>{10, 3}));
  // an acquire leaves the object's clock and its sole releaser alone
  EXPECT_TRUE(o.covered_for(1));
  o.free_storage();
}

// A released X (sole releaser), then acquired Y from B, then releases X again:
// X must now carry B's epoch too. Updating only A's own epoch in X would lose it.
TEST(ObjectClock, RepeatedReleaseCopiesTheWholeClock) {
  ObjectClock x;
  VectorClock a = make_clock({10, 0, 0});
  x.release_from(a, 1);
  ASSERT_TRUE(x.covered_for(1));
  a.tick(0);
  a.join(make_clock({0, 7, 0}));  // acquired something B released
  x.release_from(a, 1);           // the copy path
  EXPECT_EQ(epochs_of(x, 3), (std::vector<Epoch>{11, 7, 0}));
  EXPECT_TRUE(x.covered_for(1));
  VectorClock c = make_clock({0, 0, 1});
  x.acquire_into(c, 3);
  EXPECT_EQ(epochs_of(c, 3), (std::vector<Epoch>{11, 7, 1})) << "C must see B's release through A";
  x.free_storage();
}

// The copy path when the object's clock is longer than the releaser's: the slots
// past the releaser's clock can only hold zeros (it covered them), and stay zero.
TEST(ObjectClock, CopyPathWithAShorterReleaserClock) {
  ObjectClock x;
  VectorClock long_zero;
  long_zero.set(0, 3);
  long_zero.set(5, 0);  // size 6, zeros from 1 on
  x.release_from(long_zero, 1);
  ASSERT_TRUE(x.covered_for(1));
  VectorClock short_clock = make_clock({4});
  x.release_from(short_clock, 1);  // covered: the copy path
  EXPECT_EQ(epochs_of(x, 6), (std::vector<Epoch>{4, 0, 0, 0, 0, 0}));
  x.free_storage();
}

// Past kInline slots the clock moves to the heap with every epoch kept; both
// shortcuts work there too.
TEST(ObjectClock, GrowsPastTheInlineSlots) {
  ObjectClock o;
  VectorClock a;
  for (uint32_t i = 0; i < ObjectClock::kInline; ++i) a.set(i, i + 1);
  o.release_from(a, 1);
  EXPECT_FALSE(o.on_heap());
  VectorClock b;
  b.set(40, 99);
  b.set(3, 1);
  o.release_from(b, 2);
  EXPECT_TRUE(o.on_heap());
  for (uint32_t i = 0; i < ObjectClock::kInline; ++i) EXPECT_EQ(o.get(i), i + 1) << i;
  EXPECT_EQ(o.get(40), 99u);
  EXPECT_EQ(o.sole_releaser(), ObjectClock::kNobody);
  VectorClock c;
  c.set(100, 5);
  o.acquire_into(c, 3);
  EXPECT_EQ(c.get(7), 8u);
  EXPECT_EQ(c.get(40), 99u);
  EXPECT_EQ(c.get(100), 5u);
  o.release_from(c, 3);  // covers everything: sole releaser, then the copy path
  EXPECT_TRUE(o.covered_for(3));
  c.tick(100);
  o.release_from(c, 3);
  EXPECT_EQ(o.get(100), 6u);
  EXPECT_EQ(o.get(40), 99u);
  o.free_storage();
}

// The shortcuts give exactly what the plain join gives, over random histories.
TEST(ObjectClock, ShortcutsMatchThePlainJoin) {
  uint64_t rng = 12345;
  auto next = [&rng] {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
  };
  for (int round = 0; round < 200; ++round) {
    constexpr uint32_t kThreads = 12;  // some slots past kInline
    std::vector<VectorClock> threads(kThreads);
    for (uint32_t t = 0; t < kThreads; ++t) threads[t].set(t, 1);
    ObjectClock o;
    VectorClock model;  // the plain join of every release
    for (int step = 0; step < 300; ++step) {
      const uint32_t t = static_cast<uint32_t>(next() % kThreads);
      const uint32_t who = next() % 8 == 0 ? ObjectClock::kNobody : t + 1;
      VectorClock& c = threads[t];
      switch (next() % 3) {
        case 0: {  // acquire
          VectorClock expect = c;
          expect.join(model);
          o.acquire_into(c, who);
          ASSERT_TRUE(c.covers(expect) && expect.covers(c)) << round << "/" << step;
          break;
        }
        case 1:  // release
          model.join(c);
          o.release_from(c, who);
          c.tick(t);
          for (uint32_t i = 0; i < 64; ++i) ASSERT_EQ(o.get(i), model.get(i)) << round << "/" << step << " slot " << i;
          break;
        default: {  // the thread learns something elsewhere (clocks only grow)
          const uint32_t slot = static_cast<uint32_t>(next() % kThreads);
          c.set(slot, std::max<Epoch>(c.get(slot), static_cast<Epoch>(c.get(t) + next() % 5)));
          break;
        }
      }
    }
    o.free_storage();
  }
}

}  // namespace
}  // namespace racetrap
