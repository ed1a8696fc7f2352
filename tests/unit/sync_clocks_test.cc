// sync_clocks_test.cc — the address -> clock table (lib/engine/sync_clocks.h): probing,
// the overflow map, forget, and concurrent use by many threads (exact clocks, no
// lost or duplicated entries). The single-threaded basics are in vector_clock_test.cc.
#include "sync_clocks.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace racetrap {
namespace {

// Addresses whose probes all start at the same entry.
std::vector<uintptr_t> colliding(size_t n) {
  std::vector<uintptr_t> out;
  const uint32_t home = SyncClockTable::home_of(0x100000);
  for (uintptr_t a = 0x100000; out.size() < n; a += 8)
    if (SyncClockTable::home_of(a) == home) out.push_back(a);
  return out;
}

// Two mutexes side by side (40 bytes each) must not start in each other's probe
// run: the second would then live away from its home, and every lock of either
// would read the other's line (which another thread writes) inside the window
// between a thread's two locks.
TEST(SyncClockTable, NeighbouringObjectsStayOutOfEachOthersProbeRuns) {
  constexpr uint32_t kEntries = SyncClockTable::kEntries;
  for (uintptr_t a = 0x7f0000100000; a < 0x7f0000100000 + 4096 - 64; a += 8) {
    for (uintptr_t d : {40, 64}) {
      const uint32_t h1 = SyncClockTable::home_of(a), h2 = SyncClockTable::home_of(a + d);
      const uint32_t forward = (h2 - h1) & (kEntries - 1), backward = (h1 - h2) & (kEntries - 1);
      ASSERT_GE(forward, SyncClockTable::kWindow) << std::hex << a << " +" << std::dec << d;
      ASSERT_GE(backward, SyncClockTable::kWindow) << std::hex << a << " +" << std::dec << d;
    }
  }
}

// One program page's objects start in one group of 128 entries (two table pages).
TEST(SyncClockTable, OnePageOfObjectsStartsInTwoTablePages) {
  const uint32_t group = SyncClockTable::home_of(0x7f0000345000) >> 7;
  for (uintptr_t a = 0x7f0000345000; a < 0x7f0000346000; a += 8) ASSERT_EQ(SyncClockTable::home_of(a) >> 7, group);
}

TEST(SyncClockTable, FullProbeWindowOverflowsIntoTheMap) {
  SyncClockTable t;
  const std::vector<uintptr_t> keys = colliding(SyncClockTable::kWindow + 8);
  std::vector<VectorClock> releasers(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    releasers[i].set(1, static_cast<Epoch>(i + 1));
    t.release(keys[i], releasers[i]);
  }
  EXPECT_EQ(t.overflow_objects(), 8u);
  for (size_t i = 0; i < keys.size(); ++i) {
    VectorClock c;
    t.acquire(keys[i], c);
    ASSERT_EQ(c.get(1), i + 1) << i;
    // the content-id shortcut works in both places: the releaser's own acquire
    // changes nothing, not even its id
    const uint64_t id = releasers[i].id();
    t.acquire(keys[i], releasers[i]);
    EXPECT_EQ(releasers[i].id(), id);
    EXPECT_EQ(releasers[i].get(1), i + 1);
  }
  // forget works in both places; a table key stays in its entry, so the window
  // stays full and the overflowed objects stay in the map
  t.forget(keys.front());
  t.forget(keys.back());
  EXPECT_EQ(t.overflow_objects(), 7u);
  VectorClock c;
  t.acquire(keys.front(), c);
  t.acquire(keys.back(), c);
  EXPECT_EQ(c.size(), 0u);
  VectorClock again;
  again.set(2, 5);
  t.release(keys.back(), again);
  EXPECT_EQ(t.overflow_objects(), 8u);
  t.acquire(keys.back(), c);
  EXPECT_EQ(c.get(2), 5u);
}

TEST(SyncClockTable, AcquireOfANeighbourInTheWindowIsNotConfused) {
  SyncClockTable t;
  const std::vector<uintptr_t> keys = colliding(3);
  VectorClock a;
  a.set(0, 7);
  t.release(keys[1], a);
  VectorClock b;
  t.acquire(keys[0], b);  // not released: empty
  t.acquire(keys[2], b);
  EXPECT_EQ(b.size(), 0u);
  t.acquire(keys[1], b);
  EXPECT_EQ(b.get(0), 7u);
}

// Releases into `lock` a clock holding epoch `e` of thread slot `slot`.
void release_epoch(SyncClockTable& t, uintptr_t lock, uint32_t slot, Epoch e) {
  VectorClock c;
  c.set(slot, e);
  t.release(lock, c);
}

// A lock taken with nothing held joins early (before the lock call) and checks
// afterwards that no release came in between; a release that did is joined then.
TEST(SyncClockTable, EarlyAcquireIsRedoneAfterAReleaseInBetween) {
  SyncClockTable t;
  constexpr uintptr_t kLock = 0x200000, kFresh = 0x200040;
  release_epoch(t, kLock, 1, 3);
  VectorClock me;
  const uint64_t v = t.acquire_early(kLock, me);
  EXPECT_EQ(me.get(1), 3u);
  EXPECT_TRUE(t.unchanged_since(kLock, v));
  // the holder's unlock, before the real lock call returns
  release_epoch(t, kLock, 2, 9);
  EXPECT_FALSE(t.unchanged_since(kLock, v));
  t.acquire(kLock, me);
  EXPECT_EQ(me.get(2), 9u);
  // a release adding nothing keeps the content and its id
  const uint64_t again = t.acquire_early(kLock, me);
  t.release(kLock, me);
  EXPECT_TRUE(t.unchanged_since(kLock, again));
  // never released: version 0, until a first release
  VectorClock other;
  const uint64_t none = t.acquire_early(kFresh, other);
  EXPECT_EQ(none, 0u);
  EXPECT_EQ(other.size(), 0u);
  EXPECT_TRUE(t.unchanged_since(kFresh, none));
  release_epoch(t, kFresh, 2, 9);
  EXPECT_FALSE(t.unchanged_since(kFresh, none));
  // destroyed meanwhile: the content is gone, the version with it
  const uint64_t before_forget = t.acquire_early(kFresh, other);
  t.forget(kFresh);
  EXPECT_FALSE(t.unchanged_since(kFresh, before_forget));
}

// The lock fast path's form: the home entry found before the lock, the id read
// before the early join and compared after the lock.
TEST(SyncClockTable, EarlyAcquireAtTheHomeEntrySeesAReleaseInBetween) {
  SyncClockTable t;
  constexpr uintptr_t kLock = 0x300000;
  release_epoch(t, kLock, 1, 3);
  SyncClockTable::Entry* home = t.home_entry(kLock);
  ASSERT_NE(home, nullptr);
  VectorClock me;
  const uint64_t v = t.acquire_early_at(home, me);
  EXPECT_EQ(me.get(1), 3u);
  EXPECT_TRUE(t.unchanged_since(kLock, v));
  release_epoch(t, kLock, 2, 9);
  EXPECT_FALSE(t.unchanged_since(kLock, v));
  t.acquire_at(home, me);
  EXPECT_EQ(me.get(2), 9u);
  // the thread's own content: nothing joined, the id is the thread's
  EXPECT_EQ(t.acquire_early_at(home, me), t.acquire_early(kLock, me));
}

TEST(SyncClockTable, EarlyAcquireOfAnOverflowObjectIsAlwaysRedone) {
  SyncClockTable t;
  const std::vector<uintptr_t> keys = colliding(SyncClockTable::kWindow + 1);
  VectorClock r;
  r.set(3, 4);
  for (uintptr_t k : keys) t.release(k, r);
  ASSERT_EQ(t.overflow_objects(), 1u);
  VectorClock me;
  const uint64_t v = t.acquire_early(keys.back(), me);
  EXPECT_EQ(v, SyncClockTable::kNoVersion);
  EXPECT_EQ(me.get(3), 4u);
  EXPECT_FALSE(t.unchanged_since(keys.back(), v));
}

TEST(SyncClockTable, ResetAfterForkEmptiesTheTableAndTheMap) {
  SyncClockTable t;
  const std::vector<uintptr_t> keys = colliding(SyncClockTable::kWindow + 2);
  VectorClock a;
  a.set(0, 3);
  for (uintptr_t k : keys) t.release(k, a);
  t.reset_after_fork();
  EXPECT_EQ(t.overflow_objects(), 0u);
  for (uintptr_t k : keys) {
    VectorClock b;
    t.acquire(k, b);
    ASSERT_EQ(b.size(), 0u);
  }
}

// A forked child forgets every object clock: the generation moves, so what a
// thread noted before (SyncedObjects, the lock and release shortcuts) no longer holds.
TEST(SyncClockTable, ResetAfterForkMovesTheGeneration) {
  SyncClockTable t;
  VectorClock a;
  a.set(0, 3);
  t.release(0x7f0000002000, a);
  const uint64_t before = clock_generation();
  t.reset_after_fork();
  EXPECT_NE(clock_generation(), before);
}

// The release shortcut (happens_before.h: release) notes an object after a release
// that left the generation where it was: such a release added nothing, because the
// object's clock held every epoch of the thread's; one that adds epochs moves it.
TEST(SyncClockTable, AReleaseOfEpochsTheObjectHoldsLeavesTheGeneration) {
  SyncClockTable t;
  const uintptr_t k = 0x7f0000003040;
  VectorClock reader1, reader2;
  reader1.set(0, 2);
  reader1.set(1, 3);
  reader2.set(0, 1);
  reader2.set(1, 5);
  t.release(k, reader1);
  t.release(k, reader2);  // the object's clock now holds both: {2, 5}, equal to neither
  uint64_t before = clock_generation();
  t.release(k, reader1);
  t.release(k, reader2);
  EXPECT_EQ(clock_generation(), before);
  reader1.tick(0);  // a sample of reader1: its next release adds an epoch
  before = clock_generation();
  t.release(k, reader1);
  EXPECT_NE(clock_generation(), before);
  VectorClock acquirer;
  t.acquire(k, acquirer);
  EXPECT_EQ(acquirer.get(0), 3u);
  EXPECT_EQ(acquirer.get(1), 5u);
}

// Many threads insert the same fresh objects at once: each object must get exactly
// one entry (every release lands in the same clock).
TEST(SyncClockTable, ConcurrentFirstReleasesShareOneEntry) {
  SyncClockTable t;
  constexpr int kThreads = 4;
  const std::vector<uintptr_t> keys = colliding(SyncClockTable::kWindow + 16);  // table and map
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      VectorClock c;
      c.set(static_cast<uint32_t>(i), static_cast<Epoch>(100 + i));
      ready.fetch_add(1);
      while (ready.load() < kThreads) {
      }
      for (uintptr_t k : keys) t.release(k, c);
    });
  }
  for (auto& th : threads) th.join();
  for (uintptr_t k : keys) {
    VectorClock c;
    t.acquire(k, c);
    for (int i = 0; i < kThreads; ++i) ASSERT_EQ(c.get(static_cast<uint32_t>(i)), 100u + i) << k;
  }
  EXPECT_EQ(t.overflow_objects(), 16u);
}

// Threads lock a few mutexes at random (as the interposers do: acquire after the
// lock, release before the unlock), with a model clock per mutex kept under the
// same lock. After every acquire the thread's clock must be exactly
// max(its clock before, the model): a missed edge or an extra one fails.
// The unsynchronized content-id check runs concurrently with other threads'
// releases into other entries and the same entry.
TEST(SyncClockTable, ConcurrentLockPairsKeepExactClocks) {
  SyncClockTable t;
  constexpr int kThreads = 4, kLocks = 3, kRounds = 20000;
  std::mutex locks[kLocks];
  VectorClock model[kLocks];
  // kLocks real mutexes + one semaphore-like object released by everyone without a lock
  uintptr_t keys[kLocks];
  for (int i = 0; i < kLocks; ++i) keys[i] = reinterpret_cast<uintptr_t>(&locks[i]);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      const uint32_t slot = static_cast<uint32_t>(i);
      VectorClock c;
      c.reserve(kThreads);
      c.set(slot, 1);
      uint64_t h = 0x9e3779b97f4a7c15ull * (i + 1);
      for (int r = 0; r < kRounds; ++r) {
        h ^= h << 13;
        h ^= h >> 7;
        h ^= h << 17;
        const int k = static_cast<int>(h % kLocks);
        std::lock_guard<std::mutex> guard(locks[k]);
        VectorClock expect = c;
        expect.join(model[k]);
        t.acquire(keys[k], c);
        if (!(c.covers(expect) && expect.covers(c))) failures.fetch_add(1);
        model[k].join(c);
        t.release(keys[k], c);
        if ((h >> 40) % 16 == 0) c.tick(slot);  // a sample now and then; else ids match
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  for (int k = 0; k < kLocks; ++k) {
    VectorClock c;
    t.acquire(keys[k], c);
    EXPECT_TRUE(c.covers(model[k]) && model[k].covers(c)) << k;
  }
}

// The lock fast path's two halves (home_entry before the real lock, acquire_at
// after it): the entry found before another thread's release still gives that
// release's epochs, an equal clock stays untouched (same id), and an object that
// does not live in its home entry (not released yet, or moved along its probe
// window) has none, so the caller takes acquire(), which finds it.
TEST(SyncClockTable, HomeEntryFoundBeforeAReleaseGivesItsEpochs) {
  SyncClockTable t;
  const uintptr_t key = 0x7000;
  EXPECT_EQ(t.home_entry(key), nullptr);  // never released: no entry
  VectorClock releaser;
  releaser.set(1, 5);
  t.release(key, releaser);
  SyncClockTable::Entry* home = t.home_entry(key);
  ASSERT_NE(home, nullptr);
  VectorClock acquirer;
  acquirer.set(2, 1);
  releaser.set(1, 7);  // the lock's previous holder releases after the lookup
  t.release(key, releaser);
  t.acquire_at(home, acquirer);
  EXPECT_EQ(acquirer.get(1), 7u);
  EXPECT_EQ(acquirer.get(2), 1u);
  // The releaser's own acquire: same content, nothing changes, not even the id.
  const uint64_t id = releaser.id();
  t.acquire_at(t.home_entry(key), releaser);
  EXPECT_EQ(releaser.id(), id);
  EXPECT_EQ(releaser.get(2), 0u);
  // Past the home entry: no home entry, and acquire() still joins it.
  const std::vector<uintptr_t> keys = colliding(2);
  VectorClock first, second;
  first.set(3, 4);
  second.set(4, 9);
  t.release(keys[0], first);
  t.release(keys[1], second);
  EXPECT_NE(t.home_entry(keys[0]), nullptr);
  EXPECT_EQ(t.home_entry(keys[1]), nullptr);
  VectorClock c;
  t.acquire(keys[1], c);
  EXPECT_EQ(c.get(4), 9u);
}

}  // namespace
}  // namespace racetrap
