// first_verdict_rules.cc — see first_verdict_rules.h. signal-safe.
#include "first_verdict_rules.h"

namespace racetrap {

RepeatOutcome judge_repeat(const JudgedWords& tracked, const JudgedWords& repeat, bool same_orientation) {
  const bool current = judged_with_current_word(repeat);
  if (!explained_by_word_learned_since(tracked) && (current || same_orientation)) return tracked.carried >= 0 ? RepeatOutcome::kCounts : RepeatOutcome::kStands;
  if (current) return RepeatOutcome::kReplaces;
  return RepeatOutcome::kSaysNothing;
}

SealOutcome judge_at_seal(const JudgedWords& tracked, uint32_t verdicts) {
  if (explained_by_word_learned_since(tracked)) return SealOutcome::kWithdrawnExplained;
  if (tracked.carried >= 0 && verdicts < 2) return SealOutcome::kWithdrawnSeenOnceDespiteWord;
  return SealOutcome::kStands;
}

}  // namespace racetrap
