// watch_board_test.cc — breakpoint coverage, seqlock slots, reservoir replacement,
// retirement and expiry of the process-wide watch board.
#include "watch_board.h"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

namespace racetrap {
namespace {

constexpr uint64_t kForever = ~0ull;

MemoryAccess access_at(uint64_t address, uint32_t size, AccessKind kind = AccessKind::kWrite) {
  MemoryAccess a;
  a.pc = 0x400000 + address;
  a.address = address;
  a.size = size;
  a.insn_length = 3;
  a.kind = kind;
  return a;
}

Watch watch_for(uint64_t address, uint32_t size, uint32_t owner, uint64_t now,
                AccessKind kind = AccessKind::kWrite) {
  Watch w;
  w.access = access_at(address, size, kind);
  breakpoint_range_for(w.access, &w.bp_address, &w.bp_size);
  w.bp_type = writes(kind) ? BreakpointType::kReadWrite : BreakpointType::kWrite;
  w.owner_uid = owner;
  w.owner_slot = owner;
  w.owner_tid = 1000 + owner;
  w.owner_epoch = 5;
  w.published_ns = now;
  w.value = address * 3;
  w.stack.frame_count = 3;
  w.stack.frames[0] = w.access.pc;
  w.stack.frames[1] = 0x401234;
  w.stack.frames[2] = 0x405678;
  return w;
}

std::pair<uint64_t, uint32_t> range(uint64_t address, uint32_t size) {
  uint64_t a = 0;
  uint32_t s = 0;
  breakpoint_range_for(access_at(address, size), &a, &s);
  return {a, s};
}

using Range = std::pair<uint64_t, uint32_t>;

// ---------------------------------------------------------------- breakpoint_range_for

TEST(WatchBoardRange, AlignedAccessesAreWatchedExactly) {
  for (uint32_t size : {1u, 2u, 4u, 8u}) {
    for (uint64_t base : {0x1000ull, 0x7fff0000ull, 0x1008ull}) {
      EXPECT_EQ(range(base, size), Range(base, size)) << size;
    }
  }
  EXPECT_EQ(range(0x1001, 1), Range(0x1001, 1));
  EXPECT_EQ(range(0x1002, 2), Range(0x1002, 2));
  EXPECT_EQ(range(0x1004, 4), Range(0x1004, 4));
  EXPECT_EQ(range(0x1006, 2), Range(0x1006, 2));
}

TEST(WatchBoardRange, MisalignedAccessesWidenToAnAlignedBlock) {
  EXPECT_EQ(range(0x1001, 2), Range(0x1000, 4));  // bytes 1..2 in the 4-block
  EXPECT_EQ(range(0x1003, 2), Range(0x1000, 8));  // bytes 3..4 cross the 4-block
  EXPECT_EQ(range(0x1005, 2), Range(0x1004, 4));
  EXPECT_EQ(range(0x1002, 4), Range(0x1000, 8));
  EXPECT_EQ(range(0x1001, 4), Range(0x1000, 8));
  // crossing an 8-byte boundary: the block of the first byte
  EXPECT_EQ(range(0x1007, 2), Range(0x1000, 8));
  EXPECT_EQ(range(0x1006, 4), Range(0x1000, 8));
  EXPECT_EQ(range(0x1004, 8), Range(0x1000, 8));
  EXPECT_EQ(range(0x1001, 8), Range(0x1000, 8));
}

TEST(WatchBoardRange, WideAccessesWatchTheFirstBlock) {
  EXPECT_EQ(range(0x1000, 16), Range(0x1000, 8));
  EXPECT_EQ(range(0x1008, 16), Range(0x1008, 8));
  EXPECT_EQ(range(0x1003, 16), Range(0x1000, 8));
  EXPECT_EQ(range(0x1000, 32), Range(0x1000, 8));
  EXPECT_EQ(range(0x100f, 64), Range(0x1008, 8));
}

TEST(WatchBoardRange, ZeroSizeIsOneByte) { EXPECT_EQ(range(0x1003, 0), Range(0x1003, 1)); }

TEST(WatchBoardRange, ExhaustiveProperties) {
  for (uint64_t off = 0; off < 32; ++off) {
    for (uint32_t size : {1u, 2u, 3u, 4u, 6u, 8u, 10u, 16u, 32u}) {
      const uint64_t addr = 0x20000 + off;
      auto [a, s] = range(addr, size);
      SCOPED_TRACE(testing::Message() << "addr+" << off << " size " << size);
      ASSERT_TRUE(s == 1 || s == 2 || s == 4 || s == 8);
      EXPECT_EQ(a % s, 0u) << "natural alignment";
      EXPECT_LE(a, addr) << "covers the first byte";
      EXPECT_LT(addr, a + s) << "covers the first byte";
      // When some aligned block of <= 8 bytes holds the whole access, the smallest
      // such block is chosen.
      uint32_t best = 0;
      for (uint32_t len = 1; len <= 8 && best == 0; len <<= 1) {
        uint64_t base = addr & ~static_cast<uint64_t>(len - 1);
        if (addr + size <= base + len) best = len;
      }
      if (best != 0) {
        EXPECT_EQ(s, best);
        EXPECT_LE(addr + size, a + s) << "whole access covered";
      } else {
        EXPECT_EQ(s, 8u);
        EXPECT_EQ(a, addr & ~7ull);
      }
    }
  }
}

// ---------------------------------------------------------------- publish / read

TEST(WatchBoard, ConfigureClampsSlots) {
  WatchBoard b;
  b.configure(0, kForever);
  EXPECT_EQ(b.slots(), 1);
  b.configure(9, kForever);
  EXPECT_EQ(b.slots(), kMaxWatchSlots);
  b.configure(2, kForever);
  EXPECT_EQ(b.slots(), 2);
}

TEST(WatchBoard, StartsEmpty) {
  WatchBoard b;
  b.configure(4, kForever);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(b.generation(i), 0u);
    Watch out;
    EXPECT_EQ(b.read(i, &out, true), 0u);
  }
}

TEST(WatchBoard, PublishFillsEmptySlotsFirst) {
  WatchBoard b;
  b.configure(4, kForever);
  Random rng(7);
  std::set<int> used;
  for (uint32_t k = 0; k < 4; ++k) {
    int s = b.publish(watch_for(0x1000 + 8 * k, 8, k, 100), 100, rng);
    ASSERT_GE(s, 0);
    EXPECT_TRUE(used.insert(s).second) << "slot " << s << " taken twice while others were empty";
  }
  EXPECT_EQ(used, (std::set<int>{0, 1, 2, 3}));
  EXPECT_EQ(b.offers(), 4u);
}

TEST(WatchBoard, PublishTakesTheSlotThatWasEmptied) {
  WatchBoard b;
  b.configure(4, kForever);
  Random rng(7);
  for (uint32_t k = 0; k < 4; ++k) ASSERT_GE(b.publish(watch_for(0x1000 + 8 * k, 8, k, 100), 100, rng), 0);
  b.retire(2, b.generation(2));
  ASSERT_EQ(b.generation(2), 0u);
  EXPECT_EQ(b.publish(watch_for(0x2000, 8, 9, 100), 100, rng), 2);
}

TEST(WatchBoard, RespectsConfiguredSlotCount) {
  WatchBoard b;
  b.configure(2, kForever);
  Random rng(1);
  EXPECT_GE(b.publish(watch_for(0x1000, 8, 1, 100), 100, rng), 0);
  EXPECT_GE(b.publish(watch_for(0x1008, 8, 1, 100), 100, rng), 0);
  for (int k = 0; k < 200; ++k) {
    int s = b.publish(watch_for(0x1010, 8, 1, 100), 100, rng);
    EXPECT_LT(s, 2);
  }
  EXPECT_EQ(b.generation(2), 0u);
  EXPECT_EQ(b.generation(3), 0u);
}

void expect_same_header(const Watch& a, const Watch& b) {
  EXPECT_EQ(a.bp_address, b.bp_address);
  EXPECT_EQ(a.bp_size, b.bp_size);
  EXPECT_EQ(a.bp_type, b.bp_type);
  EXPECT_EQ(a.access.pc, b.access.pc);
  EXPECT_EQ(a.access.address, b.access.address);
  EXPECT_EQ(a.access.size, b.access.size);
  EXPECT_EQ(a.access.kind, b.access.kind);
  EXPECT_EQ(a.access.atomic, b.access.atomic);
  EXPECT_EQ(a.owner_uid, b.owner_uid);
  EXPECT_EQ(a.owner_slot, b.owner_slot);
  EXPECT_EQ(a.owner_tid, b.owner_tid);
  EXPECT_EQ(a.owner_epoch, b.owner_epoch);
  EXPECT_EQ(a.published_ns, b.published_ns);
  EXPECT_EQ(a.value, b.value);
}

TEST(WatchBoard, ReadReturnsThePublishedWatchWithStack) {
  WatchBoard b;
  b.configure(4, kForever);
  Random rng(3);
  Watch w = watch_for(0x3004, 4, 12, 500, AccessKind::kRead);
  w.access.atomic = true;
  w.stack.frame_count = kMaxFrames;
  for (int j = 0; j < kMaxFrames; ++j) w.stack.frames[j] = 0x500000 + j;
  int s = b.publish(w, 500, rng);
  ASSERT_GE(s, 0);
  Watch out;
  uint64_t gen = b.read(s, &out, true);
  ASSERT_NE(gen, 0u);
  ASSERT_NE(gen, WatchBoard::kBusy);
  EXPECT_EQ(gen, b.generation(s));
  expect_same_header(out, w);
  EXPECT_EQ(out.bp_type, BreakpointType::kWrite);
  EXPECT_EQ(out.stack.frame_count, static_cast<uint32_t>(kMaxFrames));
  for (int j = 0; j < kMaxFrames; ++j) EXPECT_EQ(out.stack.frames[j], w.stack.frames[j]);
}

TEST(WatchBoard, ReadWithoutStackCopiesOnlyTheHeader) {
  WatchBoard b;
  b.configure(4, kForever);
  Random rng(3);
  Watch w = watch_for(0x3000, 8, 12, 500);
  int s = b.publish(w, 500, rng);
  ASSERT_GE(s, 0);
  Watch out;
  out.stack.frame_count = 0xdead;
  out.stack.frames[0] = 0xbeef;
  uint64_t gen = b.read(s, &out, false);
  ASSERT_NE(gen, 0u);
  ASSERT_NE(gen, WatchBoard::kBusy);
  expect_same_header(out, w);
  EXPECT_EQ(out.stack.frame_count, 0xdeadu);  // untouched
  EXPECT_EQ(out.stack.frames[0], 0xbeefu);
}

TEST(WatchBoard, HeldLocksTravelWithTheStackOnly) {
  WatchBoard b;
  b.configure(4, kForever);
  Random rng(3);
  Watch w = watch_for(0x3000, 8, 12, 500);
  w.locks.flags = kLocksKnown;
  w.locks.total = 6;
  for (int j = 0; j < kMaxRecordedLocks; ++j) w.locks.locks[j] = HeldLockRecord{0x9000u + j, 0x400u + j, 2, {}};
  int s = b.publish(w, 500, rng);
  ASSERT_GE(s, 0);
  Watch full;
  ASSERT_EQ(b.read(s, &full, true), b.generation(s));
  EXPECT_EQ(std::memcmp(&full.locks, &w.locks, sizeof w.locks), 0);
  Watch header;
  header.locks.total = 0xabc;
  ASSERT_EQ(b.read(s, &header, false), b.generation(s));
  EXPECT_EQ(header.locks.total, 0xabcu);  // untouched: arming does not copy them
}

TEST(WatchBoard, GenerationChangesOnEveryPublish) {
  WatchBoard b;
  b.configure(1, 10);  // one slot that expires after 10 ns
  Random rng(5);
  std::set<uint64_t> gens;
  uint64_t last = 0;
  for (uint64_t now = 100; now < 100 + 50 * 20; now += 20) {
    int s = b.publish(watch_for(0x1000, 8, 1, now), now, rng);
    ASSERT_EQ(s, 0);
    Watch out;
    uint64_t gen = b.read(0, &out, false);
    ASSERT_NE(gen, 0u);
    ASSERT_NE(gen, WatchBoard::kBusy);
    EXPECT_NE(gen, last);
    EXPECT_TRUE(gens.insert(gen).second) << "generation reused";
    EXPECT_EQ(out.published_ns, now);
    last = gen;
  }
  // across slots too
  WatchBoard c;
  c.configure(4, kForever);
  std::set<uint64_t> g4;
  for (uint32_t k = 0; k < 4; ++k) {
    int s = c.publish(watch_for(0x1000 + 8 * k, 8, k, 1), 1, rng);
    ASSERT_GE(s, 0);
    EXPECT_TRUE(g4.insert(c.generation(s)).second);
  }
}

TEST(WatchBoard, RetireNeedsTheMatchingGeneration) {
  WatchBoard b;
  b.configure(4, kForever);
  Random rng(5);
  int s = b.publish(watch_for(0x1000, 8, 1, 100), 100, rng);
  ASSERT_GE(s, 0);
  uint64_t gen = b.generation(s);
  b.retire(s, gen + 1);
  EXPECT_EQ(b.generation(s), gen);
  b.retire(s, 0);
  EXPECT_EQ(b.generation(s), gen);
  b.retire(s, gen);
  EXPECT_EQ(b.generation(s), 0u);
  Watch out;
  EXPECT_EQ(b.read(s, &out, false), 0u);
  // a stale generation does not retire the slot's next watch
  int s2 = b.publish(watch_for(0x2000, 8, 2, 100), 100, rng);
  ASSERT_EQ(s2, s);
  uint64_t gen2 = b.generation(s2);
  EXPECT_NE(gen2, gen);
  b.retire(s2, gen);
  EXPECT_EQ(b.generation(s2), gen2);
  // retire of another slot's generation does nothing here
  int s3 = b.publish(watch_for(0x3000, 8, 3, 100), 100, rng);
  ASSERT_GE(s3, 0);
  ASSERT_NE(s3, s2);
  b.retire(s2, b.generation(s3));
  EXPECT_EQ(b.generation(s2), gen2);
}

TEST(WatchBoard, MayCoverTheWatchedBlockAndItsSyncWord) {
  WatchBoard b;
  b.configure(4, kForever);
  Random rng(5);
  Watch w = watch_for(0x1000, 4, 1, 100);
  w.sync_word = 0;
  w.sync_bp_address = 0x2008;
  w.sync_bp_size = 8;
  const int s = b.publish(w, 100, rng);
  ASSERT_GE(s, 0);
  const uint64_t gen = b.generation(s);
  EXPECT_TRUE(b.may_cover(s, gen, 0x1000, 1));
  EXPECT_TRUE(b.may_cover(s, gen, 0x0ffc, 8));   // overlaps the block's first bytes
  EXPECT_TRUE(b.may_cover(s, gen, 0x1003, 1));
  EXPECT_FALSE(b.may_cover(s, gen, 0x1004, 4));  // just past it
  EXPECT_FALSE(b.may_cover(s, gen, 0x0ff8, 8));  // just before it
  EXPECT_TRUE(b.may_cover(s, gen, 0x200c, 2));   // the sync word's block
  EXPECT_FALSE(b.may_cover(s, gen, 0x2010, 8));
  // Not known: the slot holds another watch (or none) now.
  EXPECT_TRUE(b.may_cover(s, gen + 1, 0x5000, 8));
  b.retire(s, gen);
  EXPECT_TRUE(b.may_cover(s, gen, 0x5000, 8));
  // Without a sync word its stale range covers nothing.
  Watch plain = watch_for(0x3000, 8, 2, 100);
  plain.sync_word = -1;
  plain.sync_bp_address = 0x4000;
  plain.sync_bp_size = 8;
  const int p = b.publish(plain, 100, rng);
  ASSERT_GE(p, 0);
  EXPECT_FALSE(b.may_cover(p, b.generation(p), 0x4000, 8));
  EXPECT_TRUE(b.may_cover(p, b.generation(p), 0x3004, 4));
}

TEST(WatchBoard, RetireRangeOverlapping) {
  WatchBoard b;
  b.configure(4, kForever);
  Random rng(5);
  int a = b.publish(watch_for(0x1000, 8, 1, 100), 100, rng);  // [0x1000, 0x1008)
  int c = b.publish(watch_for(0x2004, 4, 1, 100), 100, rng);  // [0x2004, 0x2008)
  int d = b.publish(watch_for(0x3000, 1, 1, 100), 100, rng);  // [0x3000, 0x3001)
  ASSERT_GE(a, 0);
  ASSERT_GE(c, 0);
  ASSERT_GE(d, 0);
  b.retire_range(0x1007, 1);  // last byte
  EXPECT_EQ(b.generation(a), 0u);
  EXPECT_NE(b.generation(c), 0u);
  EXPECT_NE(b.generation(d), 0u);
  b.retire_range(0x1ff0, 0x20);  // contains [0x2004, 0x2008)
  EXPECT_EQ(b.generation(c), 0u);
  EXPECT_NE(b.generation(d), 0u);
  b.retire_range(0x2fff, 2);  // straddles the start
  EXPECT_EQ(b.generation(d), 0u);
}

TEST(WatchBoard, RetireRangeAdjacentButNotOverlappingKeepsWatches) {
  WatchBoard b;
  b.configure(4, kForever);
  Random rng(5);
  int a = b.publish(watch_for(0x1000, 8, 1, 100), 100, rng);  // [0x1000, 0x1008)
  int c = b.publish(watch_for(0x2004, 4, 1, 100), 100, rng);  // [0x2004, 0x2008)
  ASSERT_GE(a, 0);
  ASSERT_GE(c, 0);
  uint64_t v = b.version();
  b.retire_range(0x1008, 8);   // just after
  b.retire_range(0xff8, 8);    // just before
  b.retire_range(0x2000, 4);   // just before
  b.retire_range(0x2008, 64);  // just after
  b.retire_range(0x1000, 0);   // empty range
  EXPECT_NE(b.generation(a), 0u);
  EXPECT_NE(b.generation(c), 0u);
  EXPECT_EQ(b.version(), v);
  b.retire_range(0x1000, 0x2000);  // both
  EXPECT_EQ(b.generation(a), 0u);
  EXPECT_EQ(b.generation(c), 0u);
}

TEST(WatchBoard, VersionIncreasesOnEveryChange) {
  WatchBoard b;
  b.configure(1, kForever);
  Random rng(5);
  uint64_t v0 = b.version();
  int s = b.publish(watch_for(0x1000, 8, 1, 100), 100, rng);
  ASSERT_EQ(s, 0);
  uint64_t v1 = b.version();
  EXPECT_GT(v1, v0);
  // reservoir rejections change nothing
  int published = 0;
  uint64_t before = b.version();
  for (int k = 0; k < 100; ++k) {
    uint64_t g = b.generation(0);
    int r = b.publish(watch_for(0x1008, 8, 1, 100), 100, rng);
    if (r >= 0) {
      ++published;
      EXPECT_GT(b.version(), before);
      EXPECT_NE(b.generation(0), g);
    } else {
      EXPECT_EQ(b.version(), before);
      EXPECT_EQ(b.generation(0), g);
    }
    before = b.version();
  }
  EXPECT_GT(published, 0);  // 1/2 + 1/3 + ... of 100 offers
  uint64_t v2 = b.version();
  b.retire(0, b.generation(0) + 1);  // mismatch: no change
  EXPECT_EQ(b.version(), v2);
  b.retire(0, b.generation(0));
  uint64_t v3 = b.version();
  EXPECT_GT(v3, v2);
  b.retire_range(0x1000, 0x100);  // nothing left to retire
  EXPECT_EQ(b.version(), v3);
  ASSERT_EQ(b.publish(watch_for(0x1000, 8, 1, 100), 100, rng), 0);
  uint64_t v4 = b.version();
  EXPECT_GT(v4, v3);
  b.retire_range(0x1004, 1);
  uint64_t v5 = b.version();
  EXPECT_GT(v5, v4);
  b.clear();
  EXPECT_GT(b.version(), v5);
}

TEST(WatchBoard, ClearEmptiesEverySlot) {
  WatchBoard b;
  b.configure(4, kForever);
  Random rng(5);
  for (uint32_t k = 0; k < 4; ++k) ASSERT_GE(b.publish(watch_for(0x1000 + 8 * k, 8, k, 100), 100, rng), 0);
  b.clear();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(b.generation(i), 0u);
  EXPECT_GE(b.publish(watch_for(0x5000, 8, 1, 100), 100, rng), 0);
}

// ---------------------------------------------------------------- expiry

TEST(WatchBoard, ExpiredSlotIsTakenOldestFirst) {
  constexpr uint64_t L = 1000;
  WatchBoard b;
  b.configure(4, L);
  Random rng(11);
  // Fill out of time order: slot 2 holds the oldest, then slot 1, slot 0, slot 3.
  const uint64_t times[4] = {300, 200, 100, 400};
  for (int k = 0; k < 4; ++k) ASSERT_EQ(b.publish(watch_for(0x1000 + 8 * k, 8, k, times[k]), times[k], rng), k);
  // now > published + L for the oldest only
  EXPECT_EQ(b.publish(watch_for(0x9000, 8, 9, 1101), 1101, rng), 2);
  Watch out;
  ASSERT_NE(b.read(2, &out, false), 0u);
  EXPECT_EQ(out.access.address, 0x9000u);
  // next oldest (200, slot 1)
  EXPECT_EQ(b.publish(watch_for(0x9008, 8, 9, 1201), 1201, rng), 1);
  // then 300 (slot 0), then 400 (slot 3)
  EXPECT_EQ(b.publish(watch_for(0x9010, 8, 9, 1400), 1400, rng), 0);
  EXPECT_EQ(b.publish(watch_for(0x9018, 8, 9, 1500), 1500, rng), 3);
}

TEST(WatchBoard, UnexpiredFullBoardFallsBackToReservoir) {
  // At now == published + L the oldest is not yet expired: the offer goes through
  // reservoir sampling (accepted with probability 4/5, uniform victim), so the oldest
  // slot is taken about 1/5 of the time, not always.
  constexpr uint64_t L = 1000;
  int took_oldest = 0, rejected = 0;
  constexpr int kTrials = 2000;
  Random rng(12345);
  for (int t = 0; t < kTrials; ++t) {
    WatchBoard b;
    b.configure(4, L);
    for (int k = 0; k < 4; ++k) ASSERT_GE(b.publish(watch_for(0x1000 + 8 * k, 8, k, 100 + k), 100 + k, rng), 0);
    int s = b.publish(watch_for(0x9000, 8, 9, 1100), 1100, rng);
    if (s == 0) ++took_oldest;
    if (s < 0) ++rejected;
  }
  EXPECT_NEAR(took_oldest / double(kTrials), 0.2, 0.06);
  EXPECT_NEAR(rejected / double(kTrials), 0.2, 0.06);
}

// ---------------------------------------------------------------- early retirement

// A watch every other live thread armed and then left alone for quiet_ns() is room
// for a new sample before its lifetime ends; a trap, a missing arm, or an unknown
// thread count keeps it.
TEST(WatchBoard, QuietWatchIsRetiredEarly) {
  constexpr uint64_t L = 8000;  // quiet_ns() == 2000
  WatchBoard b;
  b.configure(4, L);
  ASSERT_EQ(b.quiet_ns(), 2000u);
  Random rng(3);
  for (int k = 0; k < 4; ++k) {
    Watch w = watch_for(0x1000 + 8 * k, 8, k, 100);
    w.expected_arms = 2;  // three live threads
    ASSERT_EQ(b.publish(w, 100, rng), k);
  }
  const uint64_t g1 = b.generation(1), g2 = b.generation(2), g3 = b.generation(3);
  b.note_armed(1, g1, 200);
  b.note_armed(1, g1, 300);  // slot 1: both others armed, last at 300
  b.note_armed(2, g2, 200);  // slot 2: only one of two
  b.note_armed(3, g3, 200);
  b.note_armed(3, g3, 250);
  b.note_trap(3, g3);        // slot 3: armed by both, but trapped
  b.note_armed(0, 12345, 200);  // a stale generation changes nothing
  EXPECT_FALSE(b.quiet(1, 2300));  // exactly quiet_ns after the last arm: not yet
  EXPECT_TRUE(b.quiet(1, 2301));
  EXPECT_FALSE(b.quiet(0, 5000));
  EXPECT_FALSE(b.quiet(2, 5000));
  EXPECT_FALSE(b.quiet(3, 5000));
  bool quiet = false;
  EXPECT_EQ(b.choose_slot(2301, rng, &quiet), 1);
  EXPECT_TRUE(quiet);
  Watch fresh = watch_for(0x9000, 8, 9, 2301);
  fresh.expected_arms = 2;
  ASSERT_TRUE(b.write_slot(1, fresh, 2301));
  EXPECT_FALSE(b.quiet(1, 100000));  // the new watch starts with no arms
  // Lifetime expiry still comes first and takes the oldest slot.
  EXPECT_EQ(b.choose_slot(8101, rng, &quiet), 0);
  EXPECT_FALSE(quiet);
}

// With a lifetime in ticks, wall time alone does not expire a watch: it also needs
// lifetime_ticks periods that threads other than its owner ran, or kMaxLifetimeStretch
// lifetimes of wall time. The owner's own ticks do not count, and the oldest of the
// expired watches is the one replaced.
TEST(WatchBoard, LifetimeCountsOtherThreadsTicks) {
  constexpr uint64_t L = 1000;
  WatchBoard b;
  b.configure(4, L, /*lifetime_ticks=*/8);
  Random rng(11);
  for (int k = 0; k < 4; ++k) ASSERT_EQ(b.publish(watch_for(0x1000 + 8 * k, 8, k, 100 + k), 100 + k, rng), k);
  EXPECT_FALSE(b.expired(0, 100 + 5 * L));  // five lifetimes of wall time, no other thread ran
  for (int n = 0; n < 7; ++n) b.note_other_tick(2, 9);
  for (int n = 0; n < 8; ++n) b.note_other_tick(3, 9);
  for (int n = 0; n < 8; ++n) b.note_other_tick(1, 1);  // slot 1's owner itself
  EXPECT_FALSE(b.expired(2, 100 + 5 * L));  // one tick short
  EXPECT_TRUE(b.expired(3, 100 + 5 * L));
  EXPECT_FALSE(b.expired(3, 103 + L));  // the wall-time lifetime still applies
  EXPECT_FALSE(b.expired(1, 100 + 5 * L));
  bool quiet = true;
  EXPECT_EQ(b.choose_slot(100 + 5 * L, rng, &quiet), 3);
  EXPECT_FALSE(quiet);
  b.note_other_tick(2, 9);
  EXPECT_EQ(b.choose_slot(100 + 5 * L, rng, &quiet), 2);  // now the oldest expired one
  // Past the stretch, wall time alone expires it.
  const uint64_t stretch = WatchBoard::kMaxLifetimeStretch * L;
  EXPECT_FALSE(b.expired(0, 100 + stretch));
  EXPECT_TRUE(b.expired(0, 101 + stretch));
}

// Early retirement with ticks counted also waits for quiet_ticks() periods of the others.
TEST(WatchBoard, QuietWatchWaitsForOtherThreadsTicks) {
  constexpr uint64_t L = 8000;
  WatchBoard b;
  b.configure(1, L, /*lifetime_ticks=*/8);
  ASSERT_EQ(b.quiet_ticks(), 2u);
  Random rng(4);
  Watch w = watch_for(0x1000, 8, 1, 100);
  w.expected_arms = 1;
  ASSERT_EQ(b.publish(w, 100, rng), 0);
  const uint64_t g = b.generation(0);
  b.note_armed(0, g, 200);
  EXPECT_FALSE(b.quiet(0, 5000));  // armed, quiet long enough, but no other thread's period yet
  b.note_other_tick(0, 2);
  b.note_other_tick(0, 1);  // the owner's own
  EXPECT_FALSE(b.quiet(0, 5000));
  b.note_other_tick(0, 2);
  EXPECT_TRUE(b.quiet(0, 5000));
}

TEST(WatchBoard, ChooseThenWriteMatchesPublish) {
  WatchBoard b;
  b.configure(2, 1000);
  Random rng(5);
  EXPECT_EQ(b.choose_slot(10, rng), 0);  // empty: room, nothing written yet
  EXPECT_EQ(b.choose_slot(10, rng), 0);
  ASSERT_TRUE(b.write_slot(0, watch_for(0x1000, 8, 1, 10), 10));
  EXPECT_EQ(b.choose_slot(11, rng), 1);
  EXPECT_EQ(b.offers(), 3u);
}

// ---------------------------------------------------------------- reservoir fairness

// With the board full and nothing expiring, N offers numbered 0..N-1 should each end
// on the board with the same probability 4/(N+4): reservoir sampling, with the offers
// that filled the board as the reservoir's first four items.
TEST(WatchBoard, ReservoirIsUniformOverOffers) {
  constexpr int kSlots = 4;
  constexpr uint64_t N = 10000;
  constexpr int kTrials = 2000;
  constexpr int kBuckets = 10;
  std::array<int, kBuckets> hits{};
  int prefill_left = 0;
  Random rng(0x5eed);
  WatchBoard b;
  for (int t = 0; t < kTrials; ++t) {
    b.configure(kSlots, kForever);
    for (int k = 0; k < kSlots; ++k) {
      Watch w = watch_for(0x100000, 8, 1, 1);
      w.value = ~0ull;  // prefill marker
      ASSERT_EQ(b.publish(w, 1, rng), k);
    }
    Watch w = watch_for(0x100000, 8, 1, 1);
    for (uint64_t i = 0; i < N; ++i) {
      w.value = i;
      b.publish(w, 1, rng);
    }
    for (int k = 0; k < kSlots; ++k) {
      Watch out;
      ASSERT_NE(b.read(k, &out, false), 0u);
      if (out.value == ~0ull) ++prefill_left;
      else hits[out.value * kBuckets / N]++;
    }
  }
  const double expected = double(kTrials) * kSlots * N / (N + kSlots) / kBuckets;  // ~800
  for (int d = 0; d < kBuckets; ++d) {
    EXPECT_GT(hits[d], expected * 0.75) << "decile " << d;
    EXPECT_LT(hits[d], expected * 1.25) << "decile " << d;
  }
  // the four prefill samples are expected 2000 * 4 * 4 / 10004 ≈ 3.2 times in all
  EXPECT_LT(prefill_left, 30);
  // first and last samples: neither side favoured
  const int first_half = hits[0] + hits[1] + hits[2] + hits[3] + hits[4];
  const int second_half = hits[5] + hits[6] + hits[7] + hits[8] + hits[9];
  EXPECT_NEAR(double(first_half) / (first_half + second_half), 0.5, 0.05);
}

// The counter behind the replacement probability counts offers since the board last
// had room (an empty or expired slot): after a slot is emptied the next offer fills it
// and the one after that is accepted with probability slots/(slots+1) again.
TEST(WatchBoard, ReservoirCounterRestartsWhenTheBoardHadRoom) {
  constexpr int kTrials = 4000;
  int accepted_after_room = 0, accepted_steady = 0;
  Random rng(99);
  WatchBoard b;
  for (int t = 0; t < kTrials; ++t) {
    b.configure(4, kForever);
    for (int k = 0; k < 4; ++k) ASSERT_GE(b.publish(watch_for(0x1000, 8, 1, 1), 1, rng), 0);
    for (int k = 0; k < 1000; ++k) b.publish(watch_for(0x1000, 8, 1, 1), 1, rng);
    // steady state: offer number 1005 is accepted with probability 4/1005
    if (b.publish(watch_for(0x1000, 8, 1, 1), 1, rng) >= 0) ++accepted_steady;
    b.retire(1, b.generation(1));
    ASSERT_EQ(b.publish(watch_for(0x1000, 8, 1, 1), 1, rng), 1);  // the room
    if (b.publish(watch_for(0x1000, 8, 1, 1), 1, rng) >= 0) ++accepted_after_room;
  }
  EXPECT_NEAR(accepted_after_room / double(kTrials), 0.8, 0.04);
  EXPECT_LT(accepted_steady, 40);  // expected ≈ 16
}

// ---------------------------------------------------------------- concurrency

// Every field of the watch is derived from one number; a reader that gets a
// generation (not busy, not empty) must see a consistent watch.
Watch derived_watch(uint64_t k) {
  Watch w;
  w.bp_address = k * 8;
  w.bp_size = 1u << (k % 4);
  w.bp_type = (k & 1) ? BreakpointType::kWrite : BreakpointType::kReadWrite;
  w.access.pc = k * 5 + 1;
  w.access.address = k * 8;
  w.access.size = static_cast<uint32_t>(k % 64) + 1;
  w.access.kind = (k & 1) ? AccessKind::kRead : AccessKind::kWrite;
  w.access.atomic = (k % 3) == 0;
  w.owner_uid = static_cast<uint32_t>(k);
  w.owner_slot = static_cast<uint32_t>(k ^ 0x5555);
  w.owner_tid = static_cast<uint32_t>(k * 3);
  w.owner_epoch = static_cast<Epoch>(k + 7);
  w.published_ns = (k >> 2) + 1;
  w.value = ~k;
  w.stack.frame_count = static_cast<uint32_t>(k % kMaxFrames) + 1;
  for (int j = 0; j < kMaxFrames; ++j) w.stack.frames[j] = k * 31 + j;
  return w;
}

bool consistent(const Watch& w, bool with_stack) {
  const uint64_t k = ~w.value;
  Watch e = derived_watch(k);
  bool ok = w.bp_address == e.bp_address && w.bp_size == e.bp_size && w.bp_type == e.bp_type &&
            w.access.pc == e.access.pc && w.access.address == e.access.address &&
            w.access.size == e.access.size && w.access.kind == e.access.kind &&
            w.access.atomic == e.access.atomic && w.owner_uid == e.owner_uid &&
            w.owner_slot == e.owner_slot && w.owner_tid == e.owner_tid &&
            w.owner_epoch == e.owner_epoch && w.published_ns == e.published_ns && w.value == e.value;
  if (ok && with_stack) {
    ok = w.stack.frame_count == e.stack.frame_count;
    for (int j = 0; ok && j < kMaxFrames; ++j) ok = w.stack.frames[j] == e.stack.frames[j];
  }
  return ok;
}

TEST(WatchBoard, ConcurrentPublishAndReadNeverTorn) {
  WatchBoard b;
  b.configure(4, 50);  // short lifetime: expiry and reservoir paths both run
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> good_reads{0}, torn{0}, publishes{0}, busy{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Random rng(1000 + t);
      uint64_t counter = 0;
      Watch out;
      while (!stop.load(std::memory_order_relaxed)) {
        for (int burst = 0; burst < 64; ++burst) {
          const uint64_t k = (counter++ << 2) | t;
          const Watch w = derived_watch(k);
          if (b.publish(w, w.published_ns, rng) >= 0) publishes.fetch_add(1, std::memory_order_relaxed);
          for (int i = 0; i < 4; ++i) {
            const bool with_stack = ((counter + i) & 1) != 0;
            uint64_t gen = b.read(i, &out, with_stack);
            if (gen == WatchBoard::kBusy) {
              busy.fetch_add(1, std::memory_order_relaxed);
              continue;
            }
            if (gen == 0) continue;
            if (consistent(out, with_stack)) good_reads.fetch_add(1, std::memory_order_relaxed);
            else torn.fetch_add(1, std::memory_order_relaxed);
            if ((k & 255) == 0) b.retire(i, gen);
          }
          if ((k & 1023) == 3) b.retire_range(rng.below(1ull << 20) * 8, 4096);
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  stop = true;
  for (auto& th : threads) th.join();
  EXPECT_EQ(torn.load(), 0u);
  EXPECT_GT(good_reads.load(), 1000u);
  EXPECT_GT(publishes.load(), 100u);
  RecordProperty("good_reads", std::to_string(good_reads.load()));
  RecordProperty("busy", std::to_string(busy.load()));
}

}  // namespace
}  // namespace racetrap
