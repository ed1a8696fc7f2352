// pc_diversity.cc — per-PC counters and the admission rule. signal-safe: atomics only.
#include "pc_diversity.h"

namespace racetrap {

uint32_t PcTable::hash(uint64_t pc) {
  uint64_t h = pc * 0x9e3779b97f4a7c15ull;
  return static_cast<uint32_t>(h >> 40);
}

// The index is probed from pc's home slot; an entry is taken for a new pc (its pc
// written first) and then published in the first free slot with a CAS, so a reader
// that finds the slot sees the pc. A thread that loses the CAS to the same pc uses
// the winner's entry (its own is lost: the cost of staying lock-free).
PcTable::Entry* PcTable::find(uint64_t pc, bool insert) {
  if (pc == 0) return nullptr;
  uint32_t slot = hash(pc) % kIndexSlots;
  uint16_t mine = 0;  // an entry this call took for pc (number + 1), not yet in the index
  for (uint32_t i = 0; i < kProbe; ++i, slot = slot + 1 == kIndexSlots ? 0 : slot + 1) {
    uint16_t n = index_[slot].load(std::memory_order_acquire);
    if (n == 0) {
      if (!insert) return nullptr;  // keys are never removed: a free slot ends the chain
      if (mine == 0) {
        if (taken_.load(std::memory_order_relaxed) >= kEntries) return nullptr;
        const uint32_t got = taken_.fetch_add(1, std::memory_order_relaxed);
        if (got >= kEntries) return nullptr;
        mine = static_cast<uint16_t>(got + 1);
        entries_[got].pc.store(pc, std::memory_order_relaxed);
      }
      if (index_[slot].compare_exchange_strong(n, mine, std::memory_order_acq_rel, std::memory_order_acquire)) {
        used_.fetch_add(1, std::memory_order_relaxed);
        return &entries_[mine - 1];
      }
      // n is now the entry another thread put here: look at it as at any other.
    }
    Entry& e = entries_[n - 1];
    if (e.pc.load(std::memory_order_relaxed) == pc) return &e;
  }
  return nullptr;
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

bool PcTable::bump32(uint64_t pc, std::atomic<uint32_t> Entry::*counter) {
  Entry* e = find(pc, /*insert=*/true);
  if (e == nullptr) return false;
  std::atomic<uint32_t>& c = e->*counter;
  if (c.load(std::memory_order_relaxed) != ~0u) c.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool PcTable::bump16(uint64_t pc, std::atomic<uint16_t> Entry::*counter) {
  Entry* e = find(pc, /*insert=*/true);
  if (e == nullptr) return false;
  std::atomic<uint16_t>& c = e->*counter;
  uint16_t v = c.load(std::memory_order_relaxed);
  while (v != 0xffff && !c.compare_exchange_weak(v, static_cast<uint16_t>(v + 1), std::memory_order_relaxed)) {
  }
  return true;
}

void PcTable::clear() {
  for (auto& slot : index_) slot.store(0, std::memory_order_relaxed);
  for (Entry& e : entries_) {
    e.pc.store(0, std::memory_order_relaxed);
    e.published.store(0, std::memory_order_relaxed);
    e.conflicts.store(0, std::memory_order_relaxed);
    e.races.store(0, std::memory_order_relaxed);
  }
  taken_.store(0, std::memory_order_relaxed);
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
