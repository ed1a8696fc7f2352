// pc_diversity.cc — per-PC counters and the admission rule. signal-safe: atomics only.
#include "pc_diversity.h"

namespace racetrap {

uint32_t PcTable::hash(uint64_t pc) {
  uint64_t h = pc * 0x9e3779b97f4a7c15ull;
  return static_cast<uint32_t>(h >> 40);
}

uint32_t PcTable::page_window_start(uint64_t pc) {
  constexpr uint32_t kPages = kEntries / kPageEntries;
  const uint32_t page = hash(pc >> kCodeRegionBits) & (kPages - 1);
  return page * kPageEntries + (hash(pc) & (kPageEntries - 1));
}

// kProbe entries from `start`: the index is base + ((start + i) & wrap_mask). *full
// is set when every one of them holds another pc (the window can take no more).
PcTable::Entry* PcTable::find_in(uint64_t pc, bool insert, uint32_t start, uint32_t wrap_mask, uint32_t base,
                                 bool* full) {
  *full = false;
  for (uint32_t i = 0; i < kProbe; ++i) {
    Entry& e = entries_[base + ((start + i) & wrap_mask)];
    uint64_t key = e.pc.load(std::memory_order_acquire);
    if (key == pc) return &e;
    if (key != 0) continue;
    if (!insert) return nullptr;  // keys are never removed: a free slot ends the chain
    if (e.pc.compare_exchange_strong(key, pc, std::memory_order_acq_rel)) {
      used_.fetch_add(1, std::memory_order_relaxed);
      return &e;
    }
    if (key == pc) return &e;  // another thread claimed it for the same pc
  }
  *full = true;
  return nullptr;
}

PcTable::Entry* PcTable::find(uint64_t pc, bool insert) {
  if (pc == 0) return nullptr;
  // A pc goes to the second window only once the first is full, and slots are never
  // freed: a free slot in the first window means the pc is in neither.
  const uint32_t home = page_window_start(pc);
  bool full = false;
  const uint32_t page_base = home & ~(kPageEntries - 1);
  if (Entry* e = find_in(pc, insert, home, kPageEntries - 1, page_base, &full)) return e;
  if (!full) return nullptr;
  // The second window anywhere but the first one's page (whose windows fill together).
  const uint32_t spill = page_base + kPageEntries + hash(pc) % (kEntries - kPageEntries - kProbe);
  return find_in(pc, insert, spill, kEntries - 1, 0, &full);
}

int PcTable::page_of(uint64_t pc) const {
  const Entry* e = const_cast<PcTable*>(this)->find(pc, /*insert=*/false);
  return e == nullptr ? -1 : static_cast<int>((e - entries_) / kPageEntries);
}

PcCounts PcTable::counts(uint64_t pc) const {
  PcCounts c;
  const Entry* e = const_cast<PcTable*>(this)->find(pc, /*insert=*/false);
  if (e == nullptr) return c;
  c.published = e->published.load(std::memory_order_relaxed);
  c.conflicts = e->conflicts.load(std::memory_order_relaxed);
  c.races = e->races.load(std::memory_order_relaxed);
  return c;
}

bool PcTable::bump(uint64_t pc, std::atomic<uint32_t> Entry::*counter) {
  Entry* e = find(pc, /*insert=*/true);
  if (e == nullptr) return false;
  std::atomic<uint32_t>& c = e->*counter;
  if (c.load(std::memory_order_relaxed) != ~0u) c.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void PcTable::clear() {
  for (Entry& e : entries_) {
    e.pc.store(0, std::memory_order_relaxed);
    e.published.store(0, std::memory_order_relaxed);
    e.conflicts.store(0, std::memory_order_relaxed);
    e.races.store(0, std::memory_order_relaxed);
  }
  used_.store(0, std::memory_order_relaxed);
}

uint32_t quiet_watches(const PcCounts& c) {
  if (c.races != 0) return c.published;  // its race is known: conflicts earn nothing more
  const uint64_t credit = static_cast<uint64_t>(c.conflicts) * kConflictCredit;
  return credit >= c.published ? 0 : static_cast<uint32_t>(c.published - credit);
}

bool admit_sample(const PcCounts& c, Random& random) {
  const uint32_t quiet = quiet_watches(c);
  if (quiet < kFreeWatches) return true;
  return random.below(quiet) < kFreeWatches;
}

bool admit_tick(const PcCounts& line, Random& random) {
  const uint32_t quiet = quiet_watches(line);
  if (quiet < kFreeLineWatches) return true;
  const uint32_t keep = quiet / kLineFloor > kFreeLineWatches ? quiet / kLineFloor : kFreeLineWatches;
  return random.below(quiet) < keep;
}

uint64_t RacePairSet::key(uint64_t a, uint64_t b) {
  const uint64_t lo = a < b ? a : b, hi = a < b ? b : a;
  uint64_t k = (lo * 0x9e3779b97f4a7c15ull) ^ (hi + 0x632be59bd9b4e019ull + (lo << 6) + (lo >> 2));
  k ^= k >> 31;
  k *= 0xbf58476d1ce4e5b9ull;
  k ^= k >> 29;
  return k == 0 ? 1 : k;
}

bool RacePairSet::insert(uint64_t a, uint64_t b) {
  const uint64_t k = key(a, b);
  for (uint32_t i = 0; i < kProbe; ++i) {
    Entry& e = entries_[(k + i) & (kEntries - 1)];
    uint64_t cur = e.key.load(std::memory_order_acquire);
    if (cur == k) return false;
    if (cur != 0) continue;
    if (e.key.compare_exchange_strong(cur, k, std::memory_order_acq_rel)) {
      e.first.store(a, std::memory_order_relaxed);
      e.second.store(b, std::memory_order_release);  // second last: note_repeat waits for it
      return true;
    }
    if (cur == k) return false;
  }
  return true;
}

RacePairSet::Entry* RacePairSet::find(uint64_t a, uint64_t b) {
  const uint64_t k = key(a, b);
  for (uint32_t i = 0; i < kProbe; ++i) {
    Entry& e = entries_[(k + i) & (kEntries - 1)];
    uint64_t cur = e.key.load(std::memory_order_acquire);
    if (cur == k) return &e;
    if (cur == 0) return nullptr;
  }
  return nullptr;
}

bool RacePairSet::contains(uint64_t a, uint64_t b) const { return const_cast<RacePairSet*>(this)->find(a, b) != nullptr; }

RepeatedPair RacePairSet::note_repeat(uint64_t a, uint64_t b) {
  RepeatedPair out;
  Entry* e = find(a, b);
  if (e == nullptr) return out;
  out.second_pc = e->second.load(std::memory_order_acquire);
  out.first_pc = e->first.load(std::memory_order_relaxed);
  if (out.second_pc == 0 && out.first_pc == 0) return RepeatedPair{};  // pcs not stored yet
  out.repeats = e->repeats.fetch_add(1, std::memory_order_relaxed) + 1;
  return out;
}

bool RacePairSet::flush_now(uint64_t repeats) {
  if (repeats == 0) return false;
  if (repeats <= kFlushEvery) return (repeats & (repeats - 1)) == 0;
  return repeats % kFlushEvery == 0;
}

void RacePairSet::for_each_unflushed(void (*fn)(void*, const RepeatedPair&), void* arg) {
  for (Entry& e : entries_) {
    if (e.key.load(std::memory_order_acquire) == 0) continue;
    RepeatedPair p;
    p.repeats = e.repeats.load(std::memory_order_relaxed);
    if (p.repeats == 0 || p.repeats == e.flushed.load(std::memory_order_relaxed)) continue;
    p.second_pc = e.second.load(std::memory_order_acquire);
    p.first_pc = e.first.load(std::memory_order_relaxed);
    if (p.first_pc == 0 && p.second_pc == 0) continue;
    e.flushed.store(p.repeats, std::memory_order_relaxed);
    fn(arg, p);
  }
}

void RacePairSet::clear() {
  for (Entry& e : entries_) {
    e.key.store(0, std::memory_order_relaxed);
    e.first.store(0, std::memory_order_relaxed);
    e.second.store(0, std::memory_order_relaxed);
    e.repeats.store(0, std::memory_order_relaxed);
    e.flushed.store(0, std::memory_order_relaxed);
  }
}

}  // namespace racetrap
