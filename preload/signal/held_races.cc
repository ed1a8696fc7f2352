// held_races.cc — see held_races.h. signal-safe throughout.
#include "held_races.h"

#include <atomic>

#include "first_verdict_rules.h"
#include "safe_format.h"
#include "thread_state.h"

namespace racetrap {
namespace {

constexpr int kTracked = 32;  // each kept until the seal
enum : uint32_t { kFree = 0, kFilling = 1, kTrackedState = 2, kTaking = 3 };

struct FirstVerdict {
  std::atomic<uint32_t> state{kFree};
  int32_t word = -1;  // the synchronization word its watch carried, or -1
  uint32_t verdicts = 0;  // judged with it: the first (or the repeat that replaced it) and those counted since
  uint64_t sampled_pc = 0;
  uint64_t sampled_address = 0;
  uint64_t other_pc = 0;
};
FirstVerdict tracked[kTracked];

// The word racetrap would associate now with an access at `pc` to `address`, or -1.
int32_t word_now(uint64_t pc, uint64_t address) {
  const Runtime& rt = runtime();
  if (!rt.flags.sync_words) return -1;
  return rt.sync_words.associate(pc, address);
}

JudgedWords judged_words(const FirstVerdict& v) {
  return JudgedWords{v.word, word_now(v.sampled_pc, v.sampled_address)};
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

bool confirm_first_verdict(const RepeatedVerdict& repeat) {
  const JudgedWords repeat_words{repeat.word, word_now(repeat.sampled_pc, repeat.sampled_address)};
  const auto same_orientation = [&](const FirstVerdict& v) {
    return v.sampled_pc == repeat.sampled_pc && v.other_pc == repeat.other_pc;
  };
  const auto same_pair = [&](const FirstVerdict& v) {
    return same_orientation(v) || (v.sampled_pc == repeat.other_pc && v.other_pc == repeat.sampled_pc);
  };
  for (FirstVerdict& v : tracked) {
    if (v.state.load(std::memory_order_acquire) != kTrackedState || !same_pair(v)) continue;
    uint32_t expected = kTrackedState;
    if (!v.state.compare_exchange_strong(expected, kTaking, std::memory_order_acq_rel)) continue;
    // Another handler may have replaced the entry between the look and the take.
    const bool same = same_orientation(v);
    if (!same && !same_pair(v)) {
      v.state.store(kTrackedState, std::memory_order_release);
      continue;
    }
    switch (judge_repeat(judged_words(v), repeat_words, same)) {
      case RepeatOutcome::kStands:
        v.state.store(kFree, std::memory_order_release);
        break;
      case RepeatOutcome::kCounts:
        ++v.verdicts;
        v.state.store(kTrackedState, std::memory_order_release);
        break;
      case RepeatOutcome::kReplaces:
        v.word = repeat.word;
        v.verdicts = 1;
        v.sampled_pc = repeat.sampled_pc;
        v.sampled_address = repeat.sampled_address;
        v.other_pc = repeat.other_pc;
        v.state.store(kTrackedState, std::memory_order_release);
        break;
      case RepeatOutcome::kSaysNothing:
        v.state.store(kTrackedState, std::memory_order_release);
        break;
    }
    return true;
  }
  return false;
}

void settle_first_verdicts() {
  for (FirstVerdict& v : tracked) {
    uint32_t expected = kTrackedState;
    if (!v.state.compare_exchange_strong(expected, kTaking, std::memory_order_acq_rel)) continue;
    switch (judge_at_seal(judged_words(v), v.verdicts)) {
      case SealOutcome::kStands:
        break;
      case SealOutcome::kWithdrawnSeenOnceDespiteWord:
        withdraw(v, "seen once despite its word");
        break;
      case SealOutcome::kWithdrawnExplained:
        withdraw(v, "a word learned since explains it");
        break;
    }
    v.state.store(kFree, std::memory_order_release);
  }
}

}  // namespace racetrap
