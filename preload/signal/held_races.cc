// held_races.cc — see held_races.h. signal-safe throughout.
#include "held_races.h"

#include <atomic>

#include "thread_state.h"

namespace racetrap {
namespace {

constexpr int kHeld = 8;
enum : uint32_t { kFree = 0, kFilling = 1, kHeldState = 2, kTaking = 3 };

struct HeldRace {
  std::atomic<uint32_t> state{kFree};
  int32_t word = -1;  // the synchronization word its watch carried, or -1
  RaceRecord record;
};
HeldRace held[kHeld];

// Whether the word racetrap would associate with the sampled access now differs
// from the one its watch carried (none, or another: learned since).
bool explained_by_word(const HeldRace& h) {
  const Runtime& rt = runtime();
  if (!rt.flags.sync_words) return false;
  const int now = rt.sync_words.associate(h.record.previous.pc, h.record.previous.address);
  return now >= 0 && now != h.word;
}

void write_or_drop(HeldRace& h) {
  if (!explained_by_word(h)) runtime().raw_log.append_race(h.record);
  h.state.store(kFree, std::memory_order_release);
}

}  // namespace

bool hold_race(const RaceRecord& r, int32_t word) {
  for (HeldRace& h : held) {
    uint32_t expected = kFree;
    if (!h.state.compare_exchange_strong(expected, kFilling, std::memory_order_acq_rel)) continue;
    h.record = r;
    h.word = word;
    h.state.store(kHeldState, std::memory_order_release);
    return true;
  }
  return false;
}

bool release_held_race(uint64_t sampled_pc, uint64_t other_pc) {
  for (HeldRace& h : held) {
    if (h.state.load(std::memory_order_acquire) != kHeldState) continue;
    if (h.record.previous.pc != sampled_pc || h.record.current.pc != other_pc) continue;
    uint32_t expected = kHeldState;
    if (!h.state.compare_exchange_strong(expected, kTaking, std::memory_order_acq_rel)) continue;
    write_or_drop(h);
    return true;
  }
  return false;
}

void flush_held_races() {
  for (HeldRace& h : held) {
    uint32_t expected = kHeldState;
    if (!h.state.compare_exchange_strong(expected, kTaking, std::memory_order_acq_rel)) continue;
    if (h.word >= 0) h.state.store(kFree, std::memory_order_release);  // seen once despite its word: dropped
    else write_or_drop(h);
  }
}

}  // namespace racetrap
