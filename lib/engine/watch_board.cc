// watch_board.cc — seqlock slots, reservoir replacement, retirement.
// signal-safe: atomics and memcpy only.
#include "watch_board.h"

#include <cstring>

namespace racetrap {

void breakpoint_range_for(const MemoryAccess& access, uint64_t* bp_address, uint32_t* bp_size) {
  const uint64_t first = access.address;
  const uint64_t last = access.address + (access.size ? access.size : 1) - 1;
  for (uint32_t len = 1; len <= 8; len <<= 1) {
    uint64_t base = first & ~static_cast<uint64_t>(len - 1);
    if (last <= base + len - 1) {
      *bp_address = base;
      *bp_size = len;
      return;
    }
  }
  *bp_address = first & ~7ull;  // wider than one block: watch the block of its first byte
  *bp_size = 8;
}

void WatchBoard::configure(int slots, uint64_t lifetime_ns, uint32_t lifetime_ticks) {
  slots_ = slots < 1 ? 1 : slots > kMaxWatchSlots ? kMaxWatchSlots : slots;
  lifetime_ns_ = lifetime_ns;
  lifetime_ticks_ = lifetime_ticks;
  clear();
}

bool WatchBoard::try_write(int i, const Watch* watch, uint64_t now_ns) {
  Slot& s = slots_data_[i];
  uint64_t seq = s.sequence.load(std::memory_order_relaxed);
  if ((seq & 1) != 0) return false;
  if (!s.sequence.compare_exchange_strong(seq, seq + 1, std::memory_order_acquire)) return false;
  std::atomic_thread_fence(std::memory_order_release);
  if (watch != nullptr) {
    std::memcpy(static_cast<void*>(&s.watch), watch, sizeof(Watch));
    s.watch.published_ns = now_ns;
    s.arms.store(0, std::memory_order_relaxed);
    s.traps.store(0, std::memory_order_relaxed);
    s.last_armed_ns.store(now_ns, std::memory_order_relaxed);
    s.other_ticks.store(0, std::memory_order_relaxed);
    s.generation.store(next_generation_.fetch_add(1, std::memory_order_relaxed), std::memory_order_relaxed);
  } else {
    s.generation.store(0, std::memory_order_relaxed);
  }
  s.sequence.store(seq + 2, std::memory_order_release);
  version_.fetch_add(1, std::memory_order_acq_rel);
  return true;
}

int WatchBoard::publish(const Watch& watch, uint64_t now_ns, Random& random) {
  const int slot = choose_slot(now_ns, random);
  if (slot < 0) return -1;
  return try_write(slot, &watch, now_ns) ? slot : -1;
}

int WatchBoard::choose_slot(uint64_t now_ns, Random& random, bool* quiet_out) {
  if (quiet_out != nullptr) *quiet_out = false;
  offers_.fetch_add(1, std::memory_order_relaxed);
  // Room: an empty slot, or the oldest of the watches that outlived their lifetime,
  // or one whose watch every other thread armed and then left alone.
  int room = -1;
  uint64_t oldest_ns = ~0ull;
  for (int i = 0; i < slots_; ++i) {
    if (generation(i) == 0) {
      room = i;
      break;
    }
    const uint64_t published = slots_data_[i].watch.published_ns;  // a torn read only skews the choice
    if (published < oldest_ns && expired(i, now_ns)) {
      oldest_ns = published;
      room = i;
    }
  }
  if (room < 0) {
    for (int i = 0; i < slots_; ++i) {
      if (quiet(i, now_ns)) {
        room = i;
        if (quiet_out != nullptr) *quiet_out = true;
        break;
      }
    }
  }
  if (room >= 0) {
    offers_since_room_.store(0, std::memory_order_relaxed);
    return room;
  }
  uint64_t n = offers_since_room_.fetch_add(1, std::memory_order_relaxed) + 1 + slots_;
  if (random.below(n) >= static_cast<uint64_t>(slots_)) return -1;
  return static_cast<int>(random.below(slots_));
}

void WatchBoard::note_armed(int i, uint64_t gen, uint64_t now_ns) {
  Slot& s = slots_data_[i];
  if (s.generation.load(std::memory_order_acquire) != gen) return;
  s.last_armed_ns.store(now_ns, std::memory_order_relaxed);
  s.arms.fetch_add(1, std::memory_order_relaxed);
}

void WatchBoard::note_trap(int i, uint64_t gen) {
  Slot& s = slots_data_[i];
  if (s.generation.load(std::memory_order_acquire) != gen) return;
  s.traps.fetch_add(1, std::memory_order_relaxed);
}

void WatchBoard::note_other_tick(int i, uint32_t uid) {
  Slot& s = slots_data_[i];
  if (s.generation.load(std::memory_order_acquire) == 0) return;
  if (s.watch.owner_uid == uid) return;  // racy peek: a heuristic
  s.other_ticks.fetch_add(1, std::memory_order_relaxed);
}

bool WatchBoard::expired(int i, uint64_t now_ns) const {
  const Slot& s = slots_data_[i];
  const uint64_t published = s.watch.published_ns;  // racy peek: a heuristic
  const uint64_t age = now_ns > published ? now_ns - published : 0;
  if (age <= lifetime_ns_) return false;
  if (lifetime_ticks_ == 0 || age > kMaxLifetimeStretch * lifetime_ns_) return true;
  return s.other_ticks.load(std::memory_order_relaxed) >= lifetime_ticks_;
}

bool WatchBoard::quiet(int i, uint64_t now_ns) const {
  const Slot& s = slots_data_[i];
  if (s.generation.load(std::memory_order_acquire) == 0) return false;
  const uint32_t expected = s.watch.expected_arms;  // racy peek: a heuristic
  if (expected == 0 || s.traps.load(std::memory_order_relaxed) != 0) return false;
  if (s.arms.load(std::memory_order_relaxed) < expected) return false;
  if (s.other_ticks.load(std::memory_order_relaxed) < quiet_ticks()) return false;
  const uint64_t last = s.last_armed_ns.load(std::memory_order_relaxed);
  return now_ns > last && now_ns - last > quiet_ns();
}

uint64_t WatchBoard::read(int i, Watch* out, bool with_stack) const {
  const Slot& s = slots_data_[i];
  for (int attempt = 0; attempt < 8; ++attempt) {
    uint64_t before = s.sequence.load(std::memory_order_acquire);
    if ((before & 1) != 0) continue;
    uint64_t gen = s.generation.load(std::memory_order_relaxed);
    if (gen != 0) {
      size_t bytes = with_stack ? sizeof(Watch) : offsetof(Watch, stack);
      std::memcpy(static_cast<void*>(out), &s.watch, bytes);
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (s.sequence.load(std::memory_order_relaxed) == before) return gen;
  }
  return kBusy;
}

bool WatchBoard::may_cover(int i, uint64_t gen, uint64_t address, uint32_t size) const {
  const Slot& s = slots_data_[i];
  const uint64_t before = s.sequence.load(std::memory_order_acquire);
  if ((before & 1) != 0 || s.generation.load(std::memory_order_relaxed) != gen) return true;
  const uint64_t bp_address = s.watch.bp_address, sync_address = s.watch.sync_bp_address;
  const uint32_t bp_size = s.watch.bp_size, sync_size = s.watch.sync_bp_size;
  const bool has_word = s.watch.sync_word >= 0;
  std::atomic_thread_fence(std::memory_order_acquire);
  if (s.sequence.load(std::memory_order_relaxed) != before) return true;
  const auto overlaps = [&](uint64_t a, uint32_t n) { return a < address + size && address < a + n; };
  return overlaps(bp_address, bp_size) || (has_word && overlaps(sync_address, sync_size));
}

void WatchBoard::retire(int i, uint64_t gen) {
  if (generation(i) != gen) return;
  Slot& s = slots_data_[i];
  uint64_t seq = s.sequence.load(std::memory_order_relaxed);
  if ((seq & 1) != 0) return;
  if (!s.sequence.compare_exchange_strong(seq, seq + 1, std::memory_order_acquire)) return;
  if (s.generation.load(std::memory_order_relaxed) == gen) s.generation.store(0, std::memory_order_relaxed);
  s.sequence.store(seq + 2, std::memory_order_release);
  version_.fetch_add(1, std::memory_order_acq_rel);
}

void WatchBoard::retire_range(uint64_t address, uint64_t size) {
  for (int i = 0; i < slots_; ++i) {
    uint64_t gen = generation(i);
    if (gen == 0) continue;
    const Watch& w = slots_data_[i].watch;  // racy peek; retire() rechecks the generation
    if (w.bp_address < address + size && address < w.bp_address + w.bp_size) retire(i, gen);
  }
}

void WatchBoard::clear() {
  for (int i = 0; i < kMaxWatchSlots; ++i) {
    slots_data_[i].sequence.store(0, std::memory_order_relaxed);
    slots_data_[i].generation.store(0, std::memory_order_relaxed);
  }
  offers_since_room_.store(0, std::memory_order_relaxed);
  version_.fetch_add(1, std::memory_order_acq_rel);
}

}  // namespace racetrap
