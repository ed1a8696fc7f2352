// object_clock_test.cc — one sync object's clock and its content-id shortcut
// (lib/engine/object_clock.h, vector_clock.h): every shortcut must give exactly the
// clock the full join gives, and the cases where skipping the join would be wrong
// must still join.
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
  EXPECT_EQ(c->id(), 0u);
  VectorClock t = make_clock({4, 5});
  EXPECT_FALSE(c->same_as(t));
  c->acquire_into(t);
  EXPECT_EQ(epochs_of(t, 3), (std::vector<Epoch>{4, 5, 0}));
  c->release_from(t);
  EXPECT_EQ(epochs_of(*c, 3), (std::vector<Epoch>{4, 5, 0}));
  c->free_storage();
}

TEST(ObjectClock, ReleaseJoinsAndAcquireTransfers) {
  ObjectClock o;
  VectorClock a = make_clock({5, 0, 1});
  VectorClock b = make_clock({1, 7});
  o.release_from(a);
  o.release_from(b);
  EXPECT_EQ(epochs_of(o, 3), (std::vector<Epoch>{5, 7, 1}));
  VectorClock c = make_clock({0, 0, 0, 9});
  o.acquire_into(c);
  EXPECT_EQ(epochs_of(c, 4), (std::vector<Epoch>{5, 7, 1, 9}));
  o.free_storage();
}

// The object takes the releaser's id when it now holds exactly the releaser's
// epochs, and a new id when it holds more.
TEST(ObjectClock, SameContentOnlyWhenEqual) {
  ObjectClock o;
  VectorClock a = make_clock({5, 0});
  o.release_from(a);
  EXPECT_TRUE(o.same_as(a));  // the clock was empty
  VectorClock b = make_clock({0, 3});
  o.release_from(b);
  EXPECT_FALSE(o.same_as(b));  // b does not know a's 5
  EXPECT_FALSE(o.same_as(a));  // a does not know b's 3
  VectorClock c = make_clock({6, 4});
  o.release_from(c);
  EXPECT_TRUE(o.same_as(c));  // c covers {5, 3}
  o.release_from(a);          // a adds nothing
  EXPECT_TRUE(o.same_as(c));
  o.clear();
  EXPECT_FALSE(o.same_as(c));
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
  o.release_from(a);  // A posts
  ASSERT_TRUE(o.same_as(a));
  o.release_from(b);  // B posts: the object now holds more than A
  EXPECT_FALSE(o.same_as(a));
  o.acquire_into(a);  // A waits
  EXPECT_EQ(a.get(1), 20u) << "the edge from B's release was skipped";
  EXPECT_TRUE(o.same_as(a)) << "after the join A holds exactly the object's epochs";
  o.free_storage();
}

// An acquire that learns everything takes the object's id; one that knew more
// keeps a content of its own; the object is left alone.
TEST(ObjectClock, AcquireTakesTheObjectsIdOnlyWhenEqual) {
  ObjectClock o;
  VectorClock a = make_clock({10, 0});
  o.release_from(a);
  const uint64_t id = o.id();
  VectorClock b = make_clock({0, 3});
  o.acquire_into(b);
  EXPECT_EQ(epochs_of(b, 2), (std::vector<Epoch>{10, 3}));
  EXPECT_FALSE(o.same_as(b));
  EXPECT_EQ(o.id(), id);
  VectorClock c = make_clock({4});
  o.acquire_into(c);
  EXPECT_TRUE(o.same_as(c));
  EXPECT_EQ(epochs_of(c, 2), (std::vector<Epoch>{10, 0}));
  o.free_storage();
}

// A released X, then acquired Y from B, then releases X again: X must now carry
// B's epoch too (A's clock changed, so its id did).
TEST(ObjectClock, ReleaseAfterLearningCarriesTheNewEpochs) {
  ObjectClock x;
  VectorClock a = make_clock({10, 0, 0});
  x.release_from(a);
  ASSERT_TRUE(x.same_as(a));
  a.join(make_clock({0, 7, 0}));  // acquired something B released
  EXPECT_FALSE(x.same_as(a));
  x.release_from(a);
  EXPECT_EQ(epochs_of(x, 3), (std::vector<Epoch>{10, 7, 0}));
  EXPECT_TRUE(x.same_as(a));
  VectorClock c = make_clock({0, 0, 1});
  x.acquire_into(c);
  EXPECT_EQ(epochs_of(c, 3), (std::vector<Epoch>{10, 7, 1})) << "C must see B's release through A";
  x.free_storage();
}

// Trailing zeros are the same content: a shorter releaser clock with the same
// epochs matches the object, one with a later epoch replaces its id.
TEST(ObjectClock, TrailingZerosAreTheSameContent) {
  ObjectClock x;
  VectorClock long_zero;
  long_zero.set(0, 3);
  long_zero.set(5, 0);  // size 6, zeros from 1 on
  x.release_from(long_zero);
  ASSERT_TRUE(x.same_as(long_zero));
  VectorClock short_clock = make_clock({4});
  x.release_from(short_clock);
  EXPECT_EQ(epochs_of(x, 6), (std::vector<Epoch>{4, 0, 0, 0, 0, 0}));
  EXPECT_TRUE(x.same_as(short_clock));
  x.free_storage();
}

// Past kInline slots the clock moves to the heap with every epoch kept; the
// shortcut works there too.
TEST(ObjectClock, GrowsPastTheInlineSlots) {
  ObjectClock o;
  VectorClock a;
  for (uint32_t i = 0; i < ObjectClock::kInline; ++i) a.set(i, i + 1);
  o.release_from(a);
  EXPECT_FALSE(o.on_heap());
  VectorClock b;
  b.set(40, 99);
  b.set(3, 1);
  o.release_from(b);
  EXPECT_TRUE(o.on_heap());
  for (uint32_t i = 0; i < ObjectClock::kInline; ++i) EXPECT_EQ(o.get(i), i + 1) << i;
  EXPECT_EQ(o.get(40), 99u);
  EXPECT_FALSE(o.same_as(b));
  VectorClock c;
  c.set(100, 5);
  o.acquire_into(c);
  EXPECT_EQ(c.get(6), 7u);
  EXPECT_EQ(c.get(40), 99u);
  EXPECT_EQ(c.get(100), 5u);
  o.release_from(c);  // covers everything: the object takes c's id
  EXPECT_TRUE(o.same_as(c));
  c.tick(100);
  EXPECT_FALSE(o.same_as(c));
  o.release_from(c);
  EXPECT_EQ(o.get(100), 6u);
  EXPECT_EQ(o.get(40), 99u);
  o.free_storage();
}

// The shortcuts give exactly what the plain join gives, over random histories;
// whenever an id matches, the contents are equal.
TEST(ObjectClock, ShortcutsMatchThePlainJoin) {
  uint64_t rng = 12345;
  auto next = [&rng] {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
  };
  auto equal = [](const VectorClock& x, const VectorClock& y) { return x.covers(y) && y.covers(x); };
  for (int round = 0; round < 200; ++round) {
    constexpr uint32_t kThreads = 12;  // some slots past kInline
    std::vector<VectorClock> threads(kThreads);
    for (uint32_t t = 0; t < kThreads; ++t) threads[t].set(t, 1);
    ObjectClock o;
    VectorClock model;  // the plain join of every release
    for (int step = 0; step < 300; ++step) {
      const uint32_t t = static_cast<uint32_t>(next() % kThreads);
      VectorClock& c = threads[t];
      switch (next() % 4) {
        case 0: {  // acquire
          VectorClock expect = c;
          expect.join(model);
          o.acquire_into(c);
          ASSERT_TRUE(equal(c, expect)) << round << "/" << step;
          break;
        }
        case 1:  // release
          model.join(c);
          o.release_from(c);
          for (uint32_t i = 0; i < 64; ++i) ASSERT_EQ(o.get(i), model.get(i)) << round << "/" << step << " slot " << i;
          break;
        case 2:  // a sample: the thread ticks
          c.tick(t);
          break;
        default: {  // the thread learns something elsewhere (clocks only grow)
          const uint32_t slot = static_cast<uint32_t>(next() % kThreads);
          c.set(slot, std::max<Epoch>(c.get(slot), static_cast<Epoch>(c.get(t) + next() % 5)));
          break;
        }
      }
      if (o.same_as(c)) {
        for (uint32_t i = 0; i < 64; ++i) ASSERT_EQ(o.get(i), c.get(i)) << round << "/" << step << " slot " << i;
      }
    }
    o.free_storage();
  }
}

}  // namespace
}  // namespace racetrap
