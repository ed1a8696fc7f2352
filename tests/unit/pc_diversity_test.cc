// pc_diversity_test.cc — the sampler's diversity policy: bounded per-PC counters,
// the admission rule (a PC watched often without a conflict yields, a conflict buys
// watches back, a reported race does not), and the reported-pair set.
#include "pc_diversity.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <thread>
#include <vector>

namespace racetrap {
namespace {

TEST(PcTable, CountsPerPc) {
  auto table = std::make_unique<PcTable>();
  EXPECT_EQ(table->counts(0x401000).published, 0u);
  EXPECT_TRUE(table->note_published(0x401000));
  EXPECT_TRUE(table->note_published(0x401000));
  EXPECT_TRUE(table->note_conflict(0x401000));
  EXPECT_TRUE(table->note_race(0x401004));
  PcCounts a = table->counts(0x401000);
  EXPECT_EQ(a.published, 2u);
  EXPECT_EQ(a.conflicts, 1u);
  EXPECT_EQ(a.races, 0u);
  EXPECT_EQ(table->counts(0x401004).races, 1u);
  EXPECT_EQ(table->used(), 2u);
}

TEST(PcTable, BoundedMemoryDropsWhatDoesNotFit) {
  auto table = std::make_unique<PcTable>();
  uint32_t stored = 0;
  for (uint64_t pc = 1; pc <= 3 * PcTable::kEntries; ++pc) stored += table->note_published(pc * 16) ? 1 : 0;
  EXPECT_LE(table->used(), PcTable::kEntries);
  EXPECT_EQ(stored, table->used());
  EXPECT_GT(table->used(), PcTable::kEntries / 2);  // the short probe still fills most of it
  // A PC that found no slot reads as never seen: it is admitted like a new one.
  Random r(1);
  uint32_t admitted = 0;
  for (uint64_t pc = 1; pc <= 3 * PcTable::kEntries; ++pc) admitted += admit_sample(table->counts(pc * 16), r);
  EXPECT_EQ(admitted, 3 * PcTable::kEntries);  // each was published once: below kFreeWatches
}

// Resident memory: counters are handed out in first-use order, so a program's
// first 256 PCs share one page of counters wherever in its code (or its
// libraries) they are, and the next 256 the next page.
TEST(PcTable, PcsShareCounterPagesInFirstUseOrder) {
  auto table = std::make_unique<PcTable>();
  std::vector<int> pages;
  for (uint64_t i = 0; i < 2 * PcTable::kPageEntries; ++i) {
    // Far apart: a different 16 KiB of code (and 1 MiB region) for each pc.
    const uint64_t pc = 0x7f0000400000 + i * ((1 << 20) + 16 * 1024 + 97);
    ASSERT_TRUE(table->note_published(pc)) << i;
    pages.push_back(table->page_of(pc));
  }
  EXPECT_EQ(std::count(pages.begin(), pages.end(), 0), static_cast<long>(PcTable::kPageEntries));
  EXPECT_EQ(std::count(pages.begin(), pages.end(), 1), static_cast<long>(PcTable::kPageEntries));
  EXPECT_EQ(table->page_of(0x7f0000400001), -1);  // never recorded
}

// Many PCs of one small stretch of code are all counted (no per-region limit).
TEST(PcTable, ManyPcsOfOneRegionAllCounted) {
  auto table = std::make_unique<PcTable>();
  const uint64_t region = 0x555555558000;
  const uint64_t n = 3 * PcTable::kPageEntries;
  for (uint64_t i = 0; i < n; ++i) EXPECT_TRUE(table->note_published(region + i * 4)) << i;
  EXPECT_EQ(table->used(), n);
  for (uint64_t i = 0; i < n; ++i) EXPECT_EQ(table->counts(region + i * 4).published, 1u) << i;
}

// The two 16-bit counters stop at their largest value instead of wrapping to 0.
TEST(PcTable, SmallCountersSaturate) {
  auto table = std::make_unique<PcTable>();
  for (uint32_t i = 0; i < 70000; ++i) ASSERT_TRUE(table->note_conflict(0x401000));
  EXPECT_EQ(table->counts(0x401000).conflicts, 0xffffu);
  EXPECT_EQ(quiet_watches(table->counts(0x401000)), 0u);
}

TEST(PcTable, ConcurrentInsertsOfManyPcsFindTheirOwn) {
  auto table = std::make_unique<PcTable>();
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      for (int round = 0; round < 50; ++round)
        for (uint64_t k = 1; k <= 200; ++k) table->note_published(0x10000 + k * 8);
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(table->used(), 200u);
  for (uint64_t k = 1; k <= 200; ++k) EXPECT_EQ(table->counts(0x10000 + k * 8).published, 200u) << k;
}

TEST(PcTable, ConcurrentInsertsOfOnePcShareOneSlot) {
  auto table = std::make_unique<PcTable>();
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      for (int k = 0; k < 10000; ++k) table->note_published(0x7777);
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(table->used(), 1u);
  EXPECT_EQ(table->counts(0x7777).published, 40000u);
}

TEST(Admission, NewPcsAlwaysAdmitted) {
  Random r(7);
  for (uint32_t p = 0; p < kFreeWatches; ++p) EXPECT_TRUE(admit_sample(PcCounts{p, 0, 0}, r));
}

// The fraction of 100 000 decisions of `admit` (admit_sample or admit_tick) that
// admit a PC or line with counters `c`.
double admitted_by(bool (*admit)(const PcCounts&, Random&), const PcCounts& c, uint64_t seed) {
  Random r(seed);
  int n = 0;
  for (int i = 0; i < 100000; ++i) n += admit(c, r);
  return n / 100000.0;
}

double admitted_fraction(const PcCounts& c, uint64_t seed) { return admitted_by(admit_sample, c, seed); }

TEST(Admission, QuietPcYieldsInProportion) {
  EXPECT_NEAR(admitted_fraction({400, 0, 0}, 3), double(kFreeWatches) / 400, 0.003);
  EXPECT_NEAR(admitted_fraction({40, 0, 0}, 3), double(kFreeWatches) / 40, 0.01);
  EXPECT_GT(admitted_fraction({100000, 0, 0}, 3), 0.0);  // never excluded for good
}

TEST(Admission, ConflictsBuyWatchesBack) {
  EXPECT_EQ(quiet_watches({100, 10, 0}), 0u);  // 10 conflicts * credit 16 > 100
  EXPECT_EQ(admitted_fraction({100, 10, 0}, 5), 1.0);
  EXPECT_EQ(quiet_watches({100, 1, 0}), 100u - kConflictCredit);
}

TEST(Admission, AReportedRaceEarnsNothingMore) {
  EXPECT_EQ(quiet_watches({100, 50, 1}), 100u);
  EXPECT_LT(admitted_fraction({100, 50, 1}, 9), 0.06);
}

TEST(Admission, DeterministicForASeed) {
  Random a(42), b(42);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(admit_sample({200, 3, 0}, a), admit_sample({200, 3, 0}, b));
}

double ticks_admitted(const PcCounts& line, uint64_t seed) { return admitted_by(admit_tick, line, seed); }

TEST(TickAdmission, ALineKeepsEveryTickUntilItsWatchesAreQuiet) {
  Random r(11);
  for (uint32_t p = 0; p < kFreeLineWatches; ++p) EXPECT_TRUE(admit_tick(PcCounts{p, 0, 0}, r));
  EXPECT_EQ(ticks_admitted({0, 0, 0}, 3), 1.0);  // never sampled: cold code at full rate
}

TEST(TickAdmission, AQuietLineThinsInProportionDownToTheFloor) {
  EXPECT_NEAR(ticks_admitted({8, 0, 0}, 3), double(kFreeLineWatches) / 8, 0.01);
  EXPECT_NEAR(ticks_admitted({32, 0, 0}, 3), double(kFreeLineWatches) / 32, 0.01);
  // Never below one tick in kLineFloor, however long the line stays quiet.
  EXPECT_NEAR(ticks_admitted({100000, 0, 0}, 3), 1.0 / kLineFloor, 0.005);
}

TEST(TickAdmission, ConflictsKeepALineAtFullRate) {
  EXPECT_EQ(ticks_admitted({40, 3, 0}, 5), 1.0);  // 3 conflicts buy back 48 quiet watches
}

TEST(TickAdmission, LinesAre64BytesOfCode) {
  EXPECT_EQ(code_line(0x401000), code_line(0x40103f));
  EXPECT_NE(code_line(0x40103f), code_line(0x401040));
  // A hot function and the cold one linked right after it keep separate counters.
  auto table = std::make_unique<PcTable>();
  for (int i = 0; i < 100; ++i) table->note_published(code_line(0x401010));
  EXPECT_EQ(table->counts(code_line(0x401050)).published, 0u);
  EXPECT_EQ(table->counts(code_line(0x401030)).published, 100u);
}

TEST(RacePairSet, UnorderedPairsAreRecordedOnce) {
  auto pairs = std::make_unique<RacePairSet>();
  EXPECT_FALSE(pairs->contains(0x10, 0x20));
  EXPECT_TRUE(pairs->insert(0x10, 0x20));
  EXPECT_FALSE(pairs->insert(0x10, 0x20));
  EXPECT_FALSE(pairs->insert(0x20, 0x10));  // same pair, other order
  EXPECT_TRUE(pairs->contains(0x20, 0x10));
  EXPECT_TRUE(pairs->insert(0x10, 0x30));
  EXPECT_TRUE(pairs->insert(0x10, 0x10));  // a PC racing with itself (two threads, one loop)
  EXPECT_FALSE(pairs->insert(0x10, 0x10));
}

TEST(RacePairSet, FullTableNeverHidesANewPair) {
  auto pairs = std::make_unique<RacePairSet>();
  int new_ones = 0;
  for (uint64_t i = 1; i <= 4 * RacePairSet::kEntries; ++i) new_ones += pairs->insert(i, i + 1000000);
  EXPECT_EQ(new_ones, 4 * static_cast<int>(RacePairSet::kEntries));  // all distinct: all reported new
}

TEST(RacePairSet, RepeatsAreCountedPerUnorderedPair) {
  auto pairs = std::make_unique<RacePairSet>();
  EXPECT_EQ(pairs->note_repeat(0x10, 0x20).repeats, 0u);  // not recorded: nothing to count
  ASSERT_TRUE(pairs->insert(0x10, 0x20));
  ASSERT_TRUE(pairs->insert(0x30, 0x40));
  RepeatedPair p = pairs->note_repeat(0x20, 0x10);  // either order
  EXPECT_EQ(p.first_pc, 0x10u);  // as first inserted
  EXPECT_EQ(p.second_pc, 0x20u);
  EXPECT_EQ(p.repeats, 1u);
  EXPECT_EQ(pairs->note_repeat(0x10, 0x20).repeats, 2u);
  EXPECT_EQ(pairs->note_repeat(0x40, 0x30).repeats, 1u);
  EXPECT_EQ(pairs->note_repeat(0x10, 0x20).repeats, 3u);
}

TEST(RacePairSet, FlushPolicyWritesPowersOfTwoThenEveryKFlushEvery) {
  std::vector<uint64_t> written;
  for (uint64_t n = 0; n <= 300; ++n)
    if (RacePairSet::flush_now(n)) written.push_back(n);
  EXPECT_EQ(written, (std::vector<uint64_t>{1, 2, 4, 8, 16, 32, 64, 128, 192, 256}));
  // Never more than kFlushEvery repeats unwritten between two flushes.
  uint64_t last = 0;
  for (uint64_t n = 1; n <= 100000; ++n) {
    if (!RacePairSet::flush_now(n)) continue;
    EXPECT_LE(n - last, RacePairSet::kFlushEvery);
    last = n;
  }
}

TEST(RacePairSet, ForEachUnflushedVisitsChangedTotalsOnce) {
  auto pairs = std::make_unique<RacePairSet>();
  ASSERT_TRUE(pairs->insert(0x10, 0x20));
  ASSERT_TRUE(pairs->insert(0x30, 0x40));
  ASSERT_TRUE(pairs->insert(0x50, 0x60));  // never repeats: never visited
  for (int i = 0; i < 5; ++i) pairs->note_repeat(0x10, 0x20);
  pairs->note_repeat(0x30, 0x40);
  std::vector<RepeatedPair> seen;
  auto collect = [](void* out, const RepeatedPair& p) { static_cast<std::vector<RepeatedPair>*>(out)->push_back(p); };
  pairs->for_each_unflushed(collect, &seen);
  ASSERT_EQ(seen.size(), 2u);
  std::sort(seen.begin(), seen.end(), [](const RepeatedPair& a, const RepeatedPair& b) { return a.first_pc < b.first_pc; });
  EXPECT_EQ(seen[0].first_pc, 0x10u);
  EXPECT_EQ(seen[0].second_pc, 0x20u);
  EXPECT_EQ(seen[0].repeats, 5u);
  EXPECT_EQ(seen[1].first_pc, 0x30u);
  EXPECT_EQ(seen[1].repeats, 1u);
  seen.clear();
  pairs->for_each_unflushed(collect, &seen);
  EXPECT_TRUE(seen.empty());  // nothing changed since
  pairs->note_repeat(0x40, 0x30);
  pairs->for_each_unflushed(collect, &seen);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].first_pc, 0x30u);
  EXPECT_EQ(seen[0].repeats, 2u);
}

TEST(RacePairSet, ConcurrentRepeatsAreAllCounted) {
  auto pairs = std::make_unique<RacePairSet>();
  ASSERT_TRUE(pairs->insert(0x10, 0x20));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) pairs->note_repeat(0x10, 0x20);
    });
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(pairs->note_repeat(0x10, 0x20).repeats, 40001u);
}

}  // namespace
}  // namespace racetrap
