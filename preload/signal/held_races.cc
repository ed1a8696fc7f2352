// held_races.cc — see held_races.h. signal-safe throughout.
#include "held_races.h"

#include <atomic>

#include "safe_format.h"
#include "thread_state.h"

namespace racetrap {
namespace {

constexpr int kTracked = 32;  // kept until the seal
enum : uint32_t { kFree = 0, kFilling = 1, kTrackedState = 2, kTaking = 3 };

struct FirstVerdict {
  std::atomic<uint32_t> state{kFree};
  int32_t word = -1;  // the synchronization word its verdicts were judged with, or -1
  uint32_t verdicts = 0;  // how many were judged with it
  uint64_t sampled_pc = 0;
  uint64_t sampled_address = 0;
  uint64_t other_pc = 0;
};
FirstVerdict tracked[kTracked];

// The word racetrap would associate now with an access at `pc` to `address`, or -1.
int32_t word_now(uint64_t pc, uint64_t address) {
  const Runtime& rt = runtime();
  return rt.flags.sync_words ? rt.sync_words.associate(pc, address) : -1;
}

// Whether the word racetrap would associate with the sampled access now differs
// from the one its verdicts were judged with (none, or another: learned since).
bool explained_by_word(const FirstVerdict& v) {
  const int32_t now = word_now(v.sampled_pc, v.sampled_address);
  return now >= 0 && now != v.word;
}

void withdraw(const FirstVerdict& v, const char* why) {
  Runtime& rt = runtime();
  rt.raw_log.append_race_withdrawn(RaceSeenRecord{v.other_pc, v.sampled_pc, 0});
  if (rt.flags.verbosity >= 2) {
    LineBuffer line;
    line.text("racetrap: race withdrawn pc=").hex(v.other_pc).text(" with pc=").hex(v.sampled_pc).text(" (")
        .text(why).text(")");
    line.write_line(2);
  }
}

}  // namespace

bool track_first_verdict(const RaceRecord& r, int32_t word) {
  for (FirstVerdict& v : tracked) {
    uint32_t expected = kFree;
    if (!v.state.compare_exchange_strong(expected, kFilling, std::memory_order_acq_rel)) continue;
    v.word = word;
    v.verdicts = 1;
    v.sampled_pc = r.previous.pc;
    v.sampled_address = r.previous.address;
    v.other_pc = r.current.pc;
    v.state.store(kTrackedState, std::memory_order_release);
    return true;
  }
  return false;
}

bool confirm_first_verdict(uint64_t sampled_pc, uint64_t sampled_address, uint64_t other_pc, int32_t word) {
  for (FirstVerdict& v : tracked) {
    if (v.state.load(std::memory_order_acquire) != kTrackedState) continue;
    if (v.sampled_pc != sampled_pc || v.other_pc != other_pc) continue;
    uint32_t expected = kTrackedState;
    if (!v.state.compare_exchange_strong(expected, kTaking, std::memory_order_acq_rel)) continue;
    if (word == v.word) {
      ++v.verdicts;
    } else if (word == word_now(sampled_pc, sampled_address)) {
      // Judged with the word associated now, which the tracked ones were not.
      v.word = word;
      v.verdicts = 1;
      v.sampled_address = sampled_address;
    }
    v.state.store(kTrackedState, std::memory_order_release);
    return true;
  }
  return false;
}

void settle_first_verdicts() {
  for (FirstVerdict& v : tracked) {
    uint32_t expected = kTrackedState;
    if (!v.state.compare_exchange_strong(expected, kTaking, std::memory_order_acq_rel)) continue;
    const char* why = explained_by_word(v)                 ? "a word learned since explains it"
                      : v.word >= 0 && v.verdicts < 2 ? "seen once despite its word"
                                                       : nullptr;
    if (why != nullptr) withdraw(v, why);
    v.state.store(kFree, std::memory_order_release);
  }
}

}  // namespace racetrap
