// pc_diversity.h — the sampler's memory of where it has already looked, so a fixed
// budget of samples and four debug registers is spread over many code sites
// instead of one hot loop (the "cold region" observation of sampling race
// detectors: races hide in code that runs rarely).
//
// * PcTable: per-PC counters (watches published from the PC, conflicts = traps on
//   those watches, races reported from it). Bounded memory: kEntries counter entries
//   handed out in first-use order, found through a hashed index of entry numbers
//   with a short linear probe; a PC that finds no slot is treated as never seen.
//   Lock-free: an entry is taken with one fetch_add and published in the index with
//   one CAS, counters are relaxed atomics (a lost update only skews a heuristic).
//   Resident memory: the index is 8 KiB (two pages), and the counters of a
//   program's first 256 PCs share one page, the next 256 the next page, wherever
//   in its code they are (a program sampled all over its code writes a page of
//   counters per 256 PCs, not a page per code region).
// * admit(): whether a sample at a PC should go on to the board. A PC whose watches
//   were published `kFreeWatches` times or more without a conflict is admitted with
//   probability kFreeWatches / quiet, so it yields to PCs not yet watched but is
//   never excluded for good; a PC that already produced a reported race counts as
//   quiet (that pair is known).
// * admit_tick(): the same idea one step earlier and coarser, before a tick decodes
//   anything: the counters of the 64-byte line of code the tick landed on (a
//   second PcTable keyed by code_line()), bumped for each watch published from an
//   access on that line and each conflict on one. A line whose watches were
//   published kFreeLineWatches times or more without a conflict keeps its ticks
//   with probability kFreeLineWatches / quiet, never less than 1 / kLineFloor; the
//   others return before the decode, the board, the stack and the other threads'
//   arms (most of a sample's cost, in the handler and in the program's caches
//   afterwards). Code sampled rarely, and lines whose watches conflict, keep every
//   tick (the spirit of LiteRace's adaptive sampling: cold code at full rate).
// * RacePairSet: unordered pairs of PCs already reported as a race, so a repeat is
//   neither re-recorded nor keeps its PC on the board; it is only counted, per
//   pair, so the report can say how often the race was seen (the trap writes a
//   RaceSeenRecord at the totals flush_now() picks, and all changed totals at exit).
//
// Contract: every member is signal-safe (atomics only, no allocation, no locks) and
// deterministic given the Random passed in.
#pragma once

#include <atomic>
#include <cstdint>

#include "random.h"

namespace racetrap {

struct PcCounts {
  uint32_t published = 0;  // watches from this PC that made it onto the board
  uint32_t conflicts = 0;  // traps on those watches (another thread touched the bytes)
  uint32_t races = 0;      // races reported with this PC on the sampled side
};

class PcTable {
 public:
  static constexpr uint32_t kEntries = 4096;     // counter entries (one per PC)
  static constexpr uint32_t kPageEntries = 256;  // entries in one 4 KiB page of counters
  static constexpr uint32_t kProbe = 16;         // index slots tried from a PC's home slot

  // Counters of `pc` (all zero when it was never recorded or found no slot).
  PcCounts counts(uint64_t pc) const;
  // Each records one event for `pc`, claiming an entry for it when needed; false
  // when it has none and none can be had (the event is dropped).
  bool note_published(uint64_t pc) { return bump32(pc, &Entry::published); }
  bool note_conflict(uint64_t pc) { return bump16(pc, &Entry::conflicts); }
  bool note_race(uint64_t pc) { return bump16(pc, &Entry::races); }
  // PCs holding an entry (for tests and stats).
  uint32_t used() const { return used_.load(std::memory_order_relaxed); }
  // The 4 KiB page of the counters (0 .. kEntries / kPageEntries - 1) holding
  // `pc`'s; -1 when it has none. For tests.
  int page_of(uint64_t pc) const;
  // Not signal-safe with concurrent users; for start-up and tests.
  void clear();

 private:
  // 16 bytes: the two rarer counters saturate at 65535 (both only ever compared
  // with small numbers: kConflictCredit, a few searches per PC).
  struct alignas(16) Entry {
    std::atomic<uint64_t> pc{0};  // 0 = not yet written
    std::atomic<uint32_t> published{0};
    std::atomic<uint16_t> conflicts{0};
    std::atomic<uint16_t> races{0};
  };
  static_assert(sizeof(Entry) * kPageEntries == 4096);
  // The index fills two pages together with the two counts before it.
  static constexpr uint32_t kIndexSlots = (8192 - 2 * sizeof(uint32_t)) / sizeof(uint16_t);
  static_assert(kEntries < 0xffff, "an index slot holds an entry number + 1");
  static uint32_t hash(uint64_t pc);
  Entry* find(uint64_t pc, bool insert);
  bool bump32(uint64_t pc, std::atomic<uint32_t> Entry::*counter);
  bool bump16(uint64_t pc, std::atomic<uint16_t> Entry::*counter);

  alignas(4096) std::atomic<uint32_t> taken_{0};  // entries handed out (some may be lost to a race)
  std::atomic<uint32_t> used_{0};                 // entries in the index
  std::atomic<uint16_t> index_[kIndexSlots] = {};  // entry number + 1; 0 = free
  alignas(4096) Entry entries_[kEntries];
};

// How many watches a PC gets before it must start yielding, and how many quiet
// watches one conflict buys back.
constexpr uint32_t kFreeWatches = 4;
constexpr uint32_t kConflictCredit = 16;

// Watches from this PC that found nothing new (see the file comment).
uint32_t quiet_watches(const PcCounts& c);
// The sampling decision: true to offer the sample to the board. signal-safe.
bool admit_sample(const PcCounts& c, Random& random);

// admit_tick's line: 64 bytes of code (a loop's body or a small function's), so
// a cold function next to a hot one keeps its own counters.
constexpr unsigned kCodeLineBits = 6;
constexpr uint32_t kFreeLineWatches = 4;
constexpr uint32_t kLineFloor = 16;
inline uint64_t code_line(uint64_t pc) { return pc >> kCodeLineBits << kCodeLineBits; }
// Whether a tick on a line with these counters goes on to decoding (see the file
// comment). signal-safe.
bool admit_tick(const PcCounts& line, Random& random);

// A reported PC pair and how often its race repeated after it was recorded.
struct RepeatedPair {
  uint64_t first_pc = 0;   // the pair as it was first inserted
  uint64_t second_pc = 0;
  uint64_t repeats = 0;    // running total of note_repeat() calls
};

class RacePairSet {
 public:
  static constexpr uint32_t kEntries = 1024;  // power of two
  static constexpr uint32_t kProbe = 16;
  static constexpr uint64_t kFlushEvery = 64;

  // Records the unordered pair {a, b}; true when it is new (or the table is too
  // full to tell: then it is treated as new, so nothing is ever lost).
  bool insert(uint64_t a, uint64_t b);
  bool contains(uint64_t a, uint64_t b) const;

  // A race of the already recorded pair {a, b} happened again: counts it. Returns
  // the pair (pcs as first inserted) with its new total; repeats == 0 when the
  // pair has no slot or its pcs are not stored yet (a concurrent insert).
  RepeatedPair note_repeat(uint64_t a, uint64_t b);
  // Whether a repeat total should be written out at once, so a crash loses few:
  // 1, 2, 4, ..., kFlushEvery, then every kFlushEvery-th.
  static bool flush_now(uint64_t repeats);
  // Calls fn(arg, pair) for each pair whose total changed since the last call
  // (exit-time flush). At most one visitor at a time; note_repeat may run
  // concurrently (a total that grows meanwhile is visited again next time).
  void for_each_unflushed(void (*fn)(void*, const RepeatedPair&), void* arg);

  void clear();

 private:
  struct Entry {
    std::atomic<uint64_t> key{0};  // 0 = free
    std::atomic<uint64_t> first{0};
    std::atomic<uint64_t> second{0};
    std::atomic<uint64_t> repeats{0};
    std::atomic<uint64_t> flushed{0};  // the total last passed to for_each_unflushed's fn
  };
  static uint64_t key(uint64_t a, uint64_t b);
  Entry* find(uint64_t a, uint64_t b);
  Entry entries_[kEntries];
};

}  // namespace racetrap
