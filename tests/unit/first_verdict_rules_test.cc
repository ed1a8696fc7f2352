// first_verdict_rules_test.cc — whether a first race verdict that hand-written
// synchronization may explain stands, is replaced, or is withdrawn
// (lib/engine/first_verdict_rules.h).
#include "first_verdict_rules.h"

#include <gtest/gtest.h>

namespace racetrap {
namespace {

constexpr int32_t kNone = -1;
constexpr int32_t kLock = 0;      // the spin lock's word
constexpr int32_t kNeighbour = 1;  // a neighbour's flag, learned first in a ring of buffers
constexpr int32_t kOwnFlag = 2;    // the buffer's own flag, learned later

// One verdict at a time, as held_races.cc keeps it: a repeat that replaces the
// tracked verdict becomes it.
struct Tracked {
  JudgedWords words;
  bool tracked = true;
  void repeat(JudgedWords r, bool same_orientation = true) {
    switch (judge_repeat(words, r, same_orientation)) {
      case RepeatOutcome::kStands: tracked = false; break;
      case RepeatOutcome::kReplaces: words = r; break;
      case RepeatOutcome::kSaysNothing: break;
    }
  }
  // The lock word learned since changes what every verdict's access associates with.
  void learn(int32_t word) { words.now = word; }
  bool reported_at_exit() const { return !tracked || judge_at_seal(words) == SealOutcome::kStands; }
};

// A thread that skips the spin lock: the first verdict came before the lock word
// was learned; the repeats, published after, carry the word and still find the
// pair unordered. The race is reported, whichever thread the repeats sampled.
TEST(FirstVerdictRules, TrueRaceFoundBeforeItsWordWasLearnedStands) {
  for (const bool same : {true, false}) {
    Tracked v{{kNone, kNone}};
    v.learn(kLock);
    v.repeat({kLock, kLock}, same);  // judged with the word: the verdict now rests on it
    EXPECT_TRUE(v.tracked);
    EXPECT_EQ(v.words.carried, kLock);
    v.repeat({kLock, kLock}, same);  // a second verdict with the word
    EXPECT_FALSE(v.tracked);
    EXPECT_TRUE(v.reported_at_exit());
  }
}

// Judged once with the word and never again: it is treated as any verdict whose
// watch carried a word that was seen once (withdrawn at exit).
TEST(FirstVerdictRules, OneRepeatWithTheWordIsOneVerdictWithIt) {
  Tracked v{{kNone, kNone}};
  v.learn(kLock);
  v.repeat({kLock, kLock});
  EXPECT_TRUE(v.tracked);
  EXPECT_EQ(judge_at_seal(v.words), SealOutcome::kWithdrawnSeenOnceDespiteWord);
}

// The false report on hand-written synchronization that the withdrawal exists
// for: the first verdict came before the word was learned, and the repeats were
// judged as stale (published before it was learned): they prove nothing, so at
// exit the explained first verdict is withdrawn.
TEST(FirstVerdictRules, FalseFirstVerdictWithStaleRepeatsIsWithdrawn) {
  Tracked v{{kNone, kNone}};
  v.learn(kLock);
  EXPECT_TRUE(explained_by_word_learned_since(v.words));
  v.repeat({kNone, kLock});  // published before the word: carried none
  v.repeat({kNone, kLock}, /*same_orientation=*/false);
  EXPECT_TRUE(v.tracked);
  EXPECT_EQ(judge_at_seal(v.words), SealOutcome::kWithdrawnExplained);
}

// A flag ring: the first verdict's watch carried a neighbour's flag; the buffer's
// own flag is learned later. Repeats judged with the neighbour's flag are stale;
// none stands it up, and it is withdrawn at exit.
TEST(FirstVerdictRules, WrongWordRepeatsDoNotConfirm) {
  Tracked v{{kNeighbour, kNeighbour}};
  v.learn(kOwnFlag);
  v.repeat({kNeighbour, kOwnFlag});
  v.repeat({kNeighbour, kOwnFlag}, false);
  EXPECT_TRUE(v.tracked);
  EXPECT_NE(judge_at_seal(v.words), SealOutcome::kStands);
}

// Judged with the own flag once, then seen again: it stands (two verdicts, the
// latter judged with all racetrap knows).
TEST(FirstVerdictRules, RepeatWithTheNewWordReplacesAndAnotherConfirms) {
  Tracked v{{kNeighbour, kNeighbour}};
  v.learn(kOwnFlag);
  v.repeat({kOwnFlag, kOwnFlag}, false);
  EXPECT_TRUE(v.tracked);
  EXPECT_EQ(v.words.carried, kOwnFlag);
  v.repeat({kNeighbour, kOwnFlag});  // stale, but the tracked verdict is no longer in doubt of a new word
  EXPECT_FALSE(v.tracked);
}

// Unchanged cases: a verdict whose watch carried the word still associated stands
// at its first repeat of the same orientation, whatever that repeat carried; one of
// the other orientation confirms it only when judged with its current word.
TEST(FirstVerdictRules, VerdictWithItsWordStandsAtARepeat) {
  const JudgedWords first{kLock, kLock};
  EXPECT_EQ(judge_repeat(first, {kNone, kLock}, true), RepeatOutcome::kStands);
  EXPECT_EQ(judge_repeat(first, {kLock, kLock}, false), RepeatOutcome::kStands);
  EXPECT_EQ(judge_repeat(first, {kNone, kNone}, false), RepeatOutcome::kStands);
  EXPECT_EQ(judge_repeat(first, {kNone, kLock}, false), RepeatOutcome::kSaysNothing);
  EXPECT_EQ(judge_at_seal(first), SealOutcome::kWithdrawnSeenOnceDespiteWord);
}

// No word anywhere: a plain race verdict stands, seen once or more.
TEST(FirstVerdictRules, VerdictNoWordExplainsStands) {
  const JudgedWords first{kNone, kNone};
  EXPECT_FALSE(explained_by_word_learned_since(first));
  EXPECT_EQ(judge_at_seal(first), SealOutcome::kStands);
  EXPECT_EQ(judge_repeat(first, {kNone, kNone}, true), RepeatOutcome::kStands);
}

// The words a repeat carried and associates now are its own: a repeat whose access
// no learned word is near (another object) is current with none, and replaces an
// explained verdict; at exit it stands unless a word learned later explains it.
TEST(FirstVerdictRules, CurrentRepeatWithoutWordReplacesExplainedVerdict) {
  const JudgedWords first{kNone, kLock};
  EXPECT_EQ(judge_repeat(first, {kNone, kNone}, true), RepeatOutcome::kReplaces);
  EXPECT_EQ(judge_at_seal(JudgedWords{kNone, kNone}), SealOutcome::kStands);
}

}  // namespace
}  // namespace racetrap
