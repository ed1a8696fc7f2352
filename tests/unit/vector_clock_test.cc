// vector_clock_test.cc — vector clock algebra, thread slot leasing, sync-object clocks.
#include "vector_clock.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "sync_clocks.h"
#include "thread_registry.h"

#include "clock_builders.h"

namespace racetrap {
namespace {

using testing::make_clock;

bool same(const VectorClock& a, const VectorClock& b) {
  uint32_t n = std::max(a.size(), b.size());
  for (uint32_t i = 0; i < n; ++i)
    if (a.get(i) != b.get(i)) return false;
  return true;
}

// ---------------------------------------------------------------- VectorClock

TEST(VectorClock, EmptyClockReadsZeroEverywhere) {
  VectorClock c;
  EXPECT_EQ(c.size(), 0u);
  EXPECT_EQ(c.get(0), 0u);
  EXPECT_EQ(c.get(7), 0u);
  EXPECT_EQ(c.get(kMaxThreadSlots - 1), 0u);
  EXPECT_EQ(c.get(~0u), 0u);
}

TEST(VectorClock, GetBeyondSizeIsZero) {
  VectorClock c;
  c.set(2, 5);
  EXPECT_EQ(c.size(), 3u);
  EXPECT_EQ(c.get(3), 0u);
  EXPECT_EQ(c.get(100), 0u);
}

TEST(VectorClock, SetGrowsAndZeroFillsTheGap) {
  VectorClock c;
  c.set(0, 1);
  c.set(20, 9);  // past the initial capacity of 8
  EXPECT_EQ(c.size(), 21u);
  EXPECT_EQ(c.get(0), 1u);
  for (uint32_t i = 1; i < 20; ++i) EXPECT_EQ(c.get(i), 0u) << i;
  EXPECT_EQ(c.get(20), 9u);
  c.set(5, 3);  // setting inside the size does not change it
  EXPECT_EQ(c.size(), 21u);
  EXPECT_EQ(c.get(5), 3u);
}

TEST(VectorClock, SetAfterClearDoesNotResurrectStaleEpochs) {
  VectorClock c = make_clock({4, 5, 6, 7});
  c.clear();
  EXPECT_EQ(c.size(), 0u);
  EXPECT_EQ(c.get(2), 0u);
  c.set(3, 1);  // grows the size within the old capacity: slots 0..2 must read 0
  EXPECT_EQ(c.get(0), 0u);
  EXPECT_EQ(c.get(1), 0u);
  EXPECT_EQ(c.get(2), 0u);
  EXPECT_EQ(c.get(3), 1u);
}

TEST(VectorClock, ReserveDoesNotChangeContents) {
  VectorClock c = make_clock({1, 2});
  c.reserve(kMaxThreadSlots);
  EXPECT_EQ(c.size(), 2u);
  EXPECT_EQ(c.get(0), 1u);
  EXPECT_EQ(c.get(1), 2u);
  EXPECT_EQ(c.get(2), 0u);
}

TEST(VectorClock, TickIncrementsOneSlot) {
  VectorClock c;
  c.tick(3);
  EXPECT_EQ(c.get(3), 1u);
  EXPECT_EQ(c.size(), 4u);
  c.tick(3);
  c.tick(3);
  EXPECT_EQ(c.get(3), 3u);
  EXPECT_EQ(c.get(2), 0u);
  c.tick(0);
  EXPECT_EQ(c.get(0), 1u);
  EXPECT_EQ(c.get(3), 3u);
}

TEST(VectorClock, JoinIsElementwiseMax) {
  VectorClock a = make_clock({1, 7, 3});
  VectorClock b = make_clock({4, 2, 3, 0, 9});
  a.join(b);
  EXPECT_EQ(a.size(), 5u);
  EXPECT_EQ(a.get(0), 4u);
  EXPECT_EQ(a.get(1), 7u);
  EXPECT_EQ(a.get(2), 3u);
  EXPECT_EQ(a.get(3), 0u);
  EXPECT_EQ(a.get(4), 9u);
  // b unchanged
  EXPECT_TRUE(same(b, make_clock({4, 2, 3, 0, 9})));
}

TEST(VectorClock, JoinWithShorterKeepsTail) {
  VectorClock a = make_clock({1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  VectorClock b = make_clock({5});
  a.join(b);
  EXPECT_EQ(a.size(), 10u);
  EXPECT_EQ(a.get(0), 5u);
  EXPECT_EQ(a.get(9), 10u);
}

TEST(VectorClock, JoinGrowsPastCapacityAndZeroFillsStale) {
  VectorClock a = make_clock({9, 9, 9, 9});
  a.clear();  // capacity keeps stale 9s beyond size 0
  VectorClock b;
  b.set(2, 1);
  a.join(b);
  EXPECT_EQ(a.size(), 3u);
  EXPECT_EQ(a.get(0), 0u);
  EXPECT_EQ(a.get(1), 0u);
  EXPECT_EQ(a.get(2), 1u);

  VectorClock big;
  big.set(100, 4);
  a.join(big);
  EXPECT_EQ(a.size(), 101u);
  EXPECT_EQ(a.get(2), 1u);
  EXPECT_EQ(a.get(50), 0u);
  EXPECT_EQ(a.get(100), 4u);
}

TEST(VectorClock, JoinIsCommutative) {
  VectorClock a = make_clock({1, 8, 0, 4});
  VectorClock b = make_clock({3, 2, 6});
  VectorClock ab = a;
  ab.join(b);
  VectorClock ba = b;
  ba.join(a);
  EXPECT_TRUE(same(ab, ba));
}

TEST(VectorClock, JoinIsIdempotentAndAssociative) {
  VectorClock a = make_clock({1, 8, 0, 4});
  VectorClock b = make_clock({3, 2, 6});
  VectorClock c = make_clock({0, 9, 1, 1, 1});
  VectorClock aa = a;
  aa.join(a);
  EXPECT_TRUE(same(aa, a));
  aa.join(aa);  // self-join
  EXPECT_TRUE(same(aa, a));

  VectorClock left = a;  // (a ∨ b) ∨ c
  left.join(b);
  left.join(c);
  VectorClock bc = b;  // a ∨ (b ∨ c)
  bc.join(c);
  VectorClock right = a;
  right.join(bc);
  EXPECT_TRUE(same(left, right));
  // joining again changes nothing
  VectorClock again = left;
  again.join(b);
  EXPECT_TRUE(same(again, left));
}

TEST(VectorClock, JoinWithEmpty) {
  VectorClock a = make_clock({1, 2});
  VectorClock empty;
  a.join(empty);
  EXPECT_TRUE(same(a, make_clock({1, 2})));
  empty.join(a);
  EXPECT_TRUE(same(empty, a));
}

TEST(VectorClock, AssignCopiesExactly) {
  VectorClock a = make_clock({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  VectorClock b = make_clock({7});
  a.assign(b);
  EXPECT_EQ(a.size(), 1u);
  EXPECT_EQ(a.get(0), 7u);
  EXPECT_EQ(a.get(5), 0u);  // old contents beyond the new size are gone
  a.set(3, 1);
  EXPECT_EQ(a.get(1), 0u);
  EXPECT_EQ(a.get(2), 0u);

  VectorClock big;
  big.set(40, 2);
  b.assign(big);  // grows
  EXPECT_EQ(b.size(), 41u);
  EXPECT_EQ(b.get(0), 0u);
  EXPECT_EQ(b.get(40), 2u);

  VectorClock empty;
  b.assign(empty);
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(b.get(40), 0u);
}

TEST(VectorClock, CoversIsPartialOrder) {
  VectorClock a = make_clock({3, 4, 5});
  VectorClock b = make_clock({3, 4});
  VectorClock c = make_clock({3, 5});
  VectorClock empty;
  EXPECT_TRUE(a.covers(a));
  EXPECT_TRUE(a.covers(b));
  EXPECT_FALSE(b.covers(a));
  EXPECT_TRUE(a.covers(empty));
  EXPECT_TRUE(empty.covers(empty));
  EXPECT_FALSE(empty.covers(a));
  EXPECT_FALSE(a.covers(c));  // c[1] = 5 > 4
  EXPECT_FALSE(c.covers(a));  // a[2] = 5 > 0
  // explicit zeros beyond the other's size are fine
  VectorClock zeros;
  zeros.set(10, 0);
  EXPECT_TRUE(b.covers(zeros));
  // the join covers both operands
  VectorClock j = a;
  j.join(c);
  EXPECT_TRUE(j.covers(a));
  EXPECT_TRUE(j.covers(c));
}

TEST(VectorClock, CopyIsDeepAndIndependent) {
  VectorClock a = make_clock({1, 2, 3});
  VectorClock b(a);
  EXPECT_TRUE(same(a, b));
  b.tick(0);
  b.set(30, 1);
  EXPECT_EQ(a.get(0), 1u);
  EXPECT_EQ(a.size(), 3u);
  VectorClock c;
  c = a;
  EXPECT_TRUE(same(c, a));
  c.set(1, 99);
  EXPECT_EQ(a.get(1), 2u);
  c = c;  // self-assignment keeps contents
  EXPECT_EQ(c.get(1), 99u);
  VectorClock empty;
  VectorClock copy_of_empty(empty);
  EXPECT_EQ(copy_of_empty.size(), 0u);
  c = empty;
  EXPECT_EQ(c.size(), 0u);
}

TEST(VectorClock, LargeSlotsUpToMax) {
  VectorClock c;
  c.reserve(kMaxThreadSlots);
  c.set(kMaxThreadSlots - 1, 42);
  EXPECT_EQ(c.size(), kMaxThreadSlots);
  EXPECT_EQ(c.get(kMaxThreadSlots - 1), 42u);
  VectorClock d;
  d.join(c);
  EXPECT_EQ(d.get(kMaxThreadSlots - 1), 42u);
  EXPECT_TRUE(d.covers(c));
}

// Content ids: equal ids only for equal epochs; an operation that changes nothing
// keeps the id (so threads that exchanged everything stay equal).
TEST(VectorClock, ContentIdChangesExactlyWhenTheEpochsDo) {
  VectorClock a = make_clock({3, 1});
  const uint64_t id = a.id();
  EXPECT_NE(id, 0u);
  a.set(1, 1);  // the same epoch
  EXPECT_EQ(a.id(), id);
  a.join(make_clock({2, 1, 0}));  // nothing later
  EXPECT_EQ(a.id(), id);
  VectorClock b = make_clock({3, 4});
  a.join(b);  // a becomes b's content: takes b's id
  EXPECT_EQ(a.id(), b.id());
  EXPECT_TRUE(same(a, b));
  a.join(b);
  EXPECT_EQ(a.id(), b.id());
  VectorClock c = make_clock({5, 0, 0, 1});
  a.join(c);  // more than either: a new id
  EXPECT_NE(a.id(), b.id());
  EXPECT_NE(a.id(), c.id());
  const uint64_t joined = a.id();
  a.tick(2);
  EXPECT_NE(a.id(), joined);
  VectorClock copy = a;  // a copy is the same content
  EXPECT_EQ(copy.id(), a.id());
  copy.tick(0);
  EXPECT_NE(copy.id(), a.id());
  a.clear();
  EXPECT_EQ(a.id(), 0u);  // no id: equal to nothing
}

// A clock longer than the other only by zeros is the same content.
TEST(VectorClock, ContentIdIgnoresTrailingZeros) {
  VectorClock a;
  a.set(4, 0);  // size 5, all zero
  a.set(0, 2);
  VectorClock b = make_clock({2});
  a.join(b);  // nothing later on either side: a keeps its id
  EXPECT_NE(a.id(), b.id());
  b.join(a);  // b learns nothing either
  VectorClock c = make_clock({1});
  c.join(a);  // c now holds exactly a's epochs
  EXPECT_EQ(c.id(), a.id());
  VectorClock d = make_clock({1, 0, 0, 0, 0, 7});
  d.join(a);  // d keeps its 7: not a's content
  EXPECT_NE(d.id(), a.id());
}

// ---------------------------------------------------------------- ThreadRegistry

TEST(ThreadRegistry, FirstLeasesAreSequential) {
  ThreadRegistry r;
  ThreadSlotLease a = r.lease();
  ThreadSlotLease b = r.lease();
  ASSERT_TRUE(a.ok);
  ASSERT_TRUE(b.ok);
  EXPECT_EQ(a.uid, 0u);
  EXPECT_EQ(b.uid, 1u);
  EXPECT_NE(a.slot, b.slot);
  EXPECT_GE(a.first_epoch, 1u);  // epoch 0 means "never seen" in a clock
  EXPECT_GE(b.first_epoch, 1u);
  EXPECT_EQ(r.live_slots(), 2u);
}

TEST(ThreadRegistry, SlotReusedAfterReleaseWithLaterEpoch) {
  ThreadRegistry r;
  ThreadSlotLease main = r.lease();
  ThreadSlotLease t1 = r.lease();
  ASSERT_TRUE(t1.ok);
  r.release(t1.slot, t1.first_epoch + 41);
  EXPECT_EQ(r.live_slots(), 1u);
  ThreadSlotLease t2 = r.lease();
  ASSERT_TRUE(t2.ok);
  EXPECT_EQ(t2.slot, t1.slot);
  EXPECT_GT(t2.first_epoch, t1.first_epoch + 41);
  EXPECT_NE(t2.uid, t1.uid);
  EXPECT_NE(t2.uid, main.uid);
  EXPECT_EQ(r.live_slots(), 2u);
  // and again
  r.release(t2.slot, t2.first_epoch);
  ThreadSlotLease t3 = r.lease();
  EXPECT_EQ(t3.slot, t1.slot);
  EXPECT_GT(t3.first_epoch, t2.first_epoch);
}

TEST(ThreadRegistry, UidsNeverReused) {
  ThreadRegistry r;
  std::set<uint32_t> uids;
  for (int round = 0; round < 50; ++round) {
    ThreadSlotLease a = r.lease();
    ThreadSlotLease b = r.lease();
    ASSERT_TRUE(a.ok && b.ok);
    EXPECT_TRUE(uids.insert(a.uid).second);
    EXPECT_TRUE(uids.insert(b.uid).second);
    r.release(a.slot, a.first_epoch + 3);
    r.release(b.slot, b.first_epoch);
  }
  EXPECT_EQ(uids.size(), 100u);
  EXPECT_EQ(r.live_slots(), 0u);
}

TEST(ThreadRegistry, OnlyReleasedSlotsAreReused) {
  ThreadRegistry r;
  std::vector<ThreadSlotLease> leases;
  for (int i = 0; i < 5; ++i) leases.push_back(r.lease());
  r.release(leases[1].slot, 10);
  r.release(leases[3].slot, 20);
  ThreadSlotLease x = r.lease();
  ThreadSlotLease y = r.lease();
  std::set<uint32_t> reused{x.slot, y.slot};
  EXPECT_EQ(reused, (std::set<uint32_t>{leases[1].slot, leases[3].slot}));
  ThreadSlotLease z = r.lease();  // no free slot left: a fresh one
  for (const auto& l : leases) EXPECT_NE(z.slot, l.slot);
  // epoch continuation follows the slot, not the order of release
  for (const ThreadSlotLease* l : {&x, &y}) {
    if (l->slot == leases[1].slot) EXPECT_GT(l->first_epoch, 10u);
    else EXPECT_GT(l->first_epoch, 20u);
  }
}

TEST(ThreadRegistry, LimitIsMaxThreadSlots) {
  ThreadRegistry r;
  std::set<uint32_t> slots;
  for (uint32_t i = 0; i < kMaxThreadSlots; ++i) {
    ThreadSlotLease l = r.lease();
    ASSERT_TRUE(l.ok) << i;
    ASSERT_LT(l.slot, kMaxThreadSlots);
    slots.insert(l.slot);
  }
  EXPECT_EQ(slots.size(), kMaxThreadSlots);
  EXPECT_EQ(r.live_slots(), kMaxThreadSlots);
  ThreadSlotLease over = r.lease();
  EXPECT_FALSE(over.ok);
  EXPECT_EQ(r.live_slots(), kMaxThreadSlots);  // a failed lease is not counted
  // freeing one makes room again
  r.release(17, 5);
  ThreadSlotLease again = r.lease();
  EXPECT_TRUE(again.ok);
  EXPECT_EQ(again.slot, 17u);
  EXPECT_GT(again.first_epoch, 5u);
  EXPECT_FALSE(r.lease().ok);
}

TEST(ThreadRegistry, ReleaseOfUnknownSlotIsIgnored) {
  ThreadRegistry r;
  ThreadSlotLease a = r.lease();
  r.release(999, 5);  // never leased
  EXPECT_EQ(r.live_slots(), 1u);
  ThreadSlotLease b = r.lease();
  EXPECT_NE(b.slot, 999u);
  EXPECT_NE(b.slot, a.slot);
}

TEST(ThreadRegistry, ResetAfterForkKeepsOnlyTheSurvivor) {
  ThreadRegistry r;
  std::vector<ThreadSlotLease> leases;
  for (int i = 0; i < 4; ++i) leases.push_back(r.lease());
  const uint32_t survivor = leases[2].slot;
  r.reset_after_fork(survivor, 77);
  EXPECT_EQ(r.live_slots(), 1u);
  // The other three slots are free; the survivor's is not.
  std::set<uint32_t> got;
  for (int i = 0; i < 3; ++i) {
    ThreadSlotLease l = r.lease();
    ASSERT_TRUE(l.ok);
    EXPECT_NE(l.slot, survivor);
    got.insert(l.slot);
    EXPECT_GT(l.uid, leases.back().uid);  // uids keep counting up in the child
  }
  EXPECT_EQ(got, (std::set<uint32_t>{leases[0].slot, leases[1].slot, leases[3].slot}));
  ThreadSlotLease fresh = r.lease();
  EXPECT_EQ(fresh.slot, 4u);  // then new slots
  EXPECT_EQ(r.live_slots(), 5u);
  // The survivor's slot continues from its epoch once it is released.
  r.release(survivor, 80);
  ThreadSlotLease reuse = r.lease();
  EXPECT_EQ(reuse.slot, survivor);
  EXPECT_GT(reuse.first_epoch, 80u);
}

TEST(ThreadRegistry, ResetAfterForkTwiceDoesNotDuplicateFreeSlots) {
  ThreadRegistry r;
  for (int i = 0; i < 3; ++i) r.lease();
  r.reset_after_fork(0, 5);
  r.reset_after_fork(0, 6);
  std::set<uint32_t> got;
  for (int i = 0; i < 3; ++i) got.insert(r.lease().slot);
  EXPECT_EQ(got, (std::set<uint32_t>{1, 2, 3}));  // 1, 2 reused once each, then fresh 3
}

// After fork only the forking thread lives on. The preload resets the survivor's
// clock to its own entry and forgets every sync-object clock, so a thread created
// in the child that reuses a dead thread's slot is not covered by any clock.
TEST(ThreadRegistry, ResetAfterForkReusedSlotIsNotCoveredByAnyClock) {
  ThreadRegistry r;
  SyncClockTable sync;
  ThreadSlotLease main = r.lease();
  ThreadSlotLease worker = r.lease();
  VectorClock main_clock;
  main_clock.set(main.slot, main.first_epoch);
  // The worker ran for a while and the main thread synchronized with it (mutex):
  main_clock.set(worker.slot, worker.first_epoch + 10);
  sync.release(0x1000, main_clock);
  // fork() in the main thread: the worker does not exist in the child.
  const Epoch own = main_clock.get(main.slot);
  main_clock.clear();
  main_clock.set(main.slot, own);
  sync.reset_after_fork();
  r.reset_after_fork(main.slot, own);
  ThreadSlotLease child_thread = r.lease();
  ASSERT_EQ(child_thread.slot, worker.slot);
  EXPECT_LT(main_clock.get(worker.slot), child_thread.first_epoch)
      << "the new thread's first access would be judged ordered before the main thread";
  sync.acquire(0x1000, main_clock);  // a mutex last released before the fork
  EXPECT_LT(main_clock.get(worker.slot), child_thread.first_epoch);
}

TEST(ThreadRegistry, DoubleReleaseIsIgnored) {
  ThreadRegistry r;
  ThreadSlotLease a = r.lease();
  r.release(a.slot, 5);
  r.release(a.slot, 5);
  ThreadSlotLease b = r.lease();
  ThreadSlotLease c = r.lease();
  EXPECT_EQ(b.slot, a.slot);
  EXPECT_NE(c.slot, a.slot);
  EXPECT_EQ(r.live_slots(), 2u);
}

// ---------------------------------------------------------------- SyncClockTable

TEST(SyncClock, AcquireOnUnknownObjectLeavesClockUnchanged) {
  SyncClockTable t;
  VectorClock c = make_clock({3, 0, 5});
  t.acquire(0x1000, c);
  EXPECT_TRUE(same(c, make_clock({3, 0, 5})));
  EXPECT_EQ(c.size(), 3u);
  VectorClock empty;
  t.acquire(0x2000, empty);
  EXPECT_EQ(empty.size(), 0u);
}

TEST(SyncClock, ReleaseThenAcquireTransfers) {
  SyncClockTable t;
  VectorClock a = make_clock({5, 0, 0});
  VectorClock b = make_clock({0, 2, 0});
  t.release(0x1000, a);
  t.acquire(0x1000, b);
  EXPECT_EQ(b.get(0), 5u);
  EXPECT_EQ(b.get(1), 2u);
  EXPECT_EQ(a.get(1), 0u);  // release does not change the releaser
  // a second acquire is harmless
  t.acquire(0x1000, b);
  EXPECT_TRUE(same(b, make_clock({5, 2})));
}

TEST(SyncClock, ReleasesAccumulate) {
  SyncClockTable t;
  VectorClock a = make_clock({5, 0, 0});
  VectorClock b = make_clock({1, 7, 0});
  t.release(0x40, a);
  t.release(0x40, b);
  VectorClock c = make_clock({0, 0, 3});
  t.acquire(0x40, c);
  EXPECT_TRUE(same(c, make_clock({5, 7, 3})));
}

TEST(SyncClock, ObjectsAreIndependent) {
  SyncClockTable t;
  VectorClock a = make_clock({5});
  t.release(0x1000, a);
  VectorClock b;
  t.acquire(0x1008, b);  // neighbour address, likely the same stripe
  t.acquire(0x2000, b);
  EXPECT_EQ(b.get(0), 0u);
  // many objects, every stripe
  for (uintptr_t i = 0; i < 1000; ++i) {
    VectorClock r;
    r.set(1, static_cast<Epoch>(i + 1));
    t.release(0x10000 + i * 16, r);
  }
  for (uintptr_t i = 0; i < 1000; ++i) {
    VectorClock r;
    t.acquire(0x10000 + i * 16, r);
    ASSERT_EQ(r.get(1), i + 1) << i;
  }
}

TEST(SyncClock, ForgetDropsTheClock) {
  SyncClockTable t;
  VectorClock a = make_clock({5, 6});
  t.release(0x1000, a);
  t.release(0x2000, a);
  t.forget(0x1000);
  VectorClock b;
  t.acquire(0x1000, b);
  EXPECT_EQ(b.size(), 0u);
  t.acquire(0x2000, b);  // the other object is kept
  EXPECT_TRUE(same(b, a));
  t.forget(0x3000);  // unknown: no-op
  // a forgotten address used again by a new object starts fresh
  VectorClock c = make_clock({0, 0, 1});
  t.release(0x1000, c);
  VectorClock d;
  t.acquire(0x1000, d);
  EXPECT_TRUE(same(d, c));
}

// Clocks from before fork() name threads that do not exist in the child.
TEST(SyncClock, ResetAfterForkForgetsClocks) {
  SyncClockTable t;
  VectorClock a = make_clock({2, 3});
  t.release(0x1000, a);
  t.reset_after_fork();
  VectorClock b;
  t.acquire(0x1000, b);
  EXPECT_EQ(b.size(), 0u);
  t.release(0x1000, a);  // and the table still works
  t.acquire(0x1000, b);
  EXPECT_TRUE(same(b, a));
}

}  // namespace
}  // namespace racetrap
