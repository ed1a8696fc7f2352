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
  uint32_t verdicts = 1;
  bool tracked = true;
  void repeat(JudgedWords r, bool same_orientation = true) {
    switch (judge_repeat(words, r, same_orientation)) {
      case RepeatOutcome::kStands: tracked = false; break;
      case RepeatOutcome::kCounts: ++verdicts; break;
      case RepeatOutcome::kReplaces: words = r; verdicts = 1; break;
      case RepeatOutcome::kSaysNothing: break;
    }
  }
  // The lock word learned since changes what every verdict's access associates with.
  void learn(int32_t word) { words.now = word; }
  SealOutcome at_exit() const { return judge_at_seal(words, verdicts); }
  bool reported_at_exit() const { return !tracked || at_exit() == SealOutcome::kStands; }
};

// A thread that skips the spin lock: the first verdict came before the lock word
// was learned; the repeats, published after, carry the word and still find the
// pair unordered. The race is reported, whichever thread the repeats sampled.
TEST(FirstVerdictRules, TrueRaceFoundBeforeItsWordWasLearnedStands) {
  for (const bool same : {true, false}) {
    Tracked v{{kNone, kNone}};
    v.learn(kLock);
    v.repeat({kLock, kLock}, same);  // judged with the word: the verdict now rests on it
    EXPECT_EQ(v.words.carried, kLock);
    EXPECT_EQ(v.verdicts, 1u);
    EXPECT_FALSE(v.reported_at_exit());
    v.repeat({kLock, kLock}, same);  // a second verdict with the word
    EXPECT_EQ(v.verdicts, 2u);
    EXPECT_TRUE(v.reported_at_exit());
  }
}

// Judged once with the word and never again: it is treated as any verdict whose
// watch carried a word that was seen once (withdrawn at exit).
TEST(FirstVerdictRules, OneRepeatWithTheWordIsOneVerdictWithIt) {
  Tracked v{{kNone, kNone}};
  v.learn(kLock);
  v.repeat({kLock, kLock});
  EXPECT_EQ(v.at_exit(), SealOutcome::kWithdrawnSeenOnceDespiteWord);
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
  EXPECT_EQ(v.at_exit(), SealOutcome::kWithdrawnExplained);
}

// A flag ring: the first verdict's watch carried a neighbour's flag; the buffer's
// own flag is learned later. Repeats judged with the neighbour's flag are stale;
// none stands it up, and it is withdrawn at exit.
TEST(FirstVerdictRules, WrongWordRepeatsDoNotConfirm) {
  Tracked v{{kNeighbour, kNeighbour}};
  v.learn(kOwnFlag);
  v.repeat({kNeighbour, kOwnFlag});
  v.repeat({kNeighbour, kOwnFlag}, false);
  EXPECT_NE(v.at_exit(), SealOutcome::kStands);
}

// hand_flag_ring's residual false report: the first verdict and its repeats were
// all judged with a neighbour's flag before the buffer's own flag was learned, so
// each repeat was "current" then and counted; the own flag, learned before exit,
// shows them judged with the wrong word: withdrawn at the seal, however many.
TEST(FirstVerdictRules, RepeatsJudgedWithTheWrongWordBeforeTheRightOneIsLearnedAreWithdrawn) {
  for (const bool same : {true, false}) {
    Tracked v{{kNeighbour, kNeighbour}};
    v.repeat({kNeighbour, kNeighbour}, same);
    v.repeat({kNeighbour, kNeighbour}, same);
    EXPECT_EQ(v.verdicts, 3u);
    EXPECT_TRUE(v.reported_at_exit());  // had the run ended here
    v.learn(kOwnFlag);
    EXPECT_EQ(v.at_exit(), SealOutcome::kWithdrawnExplained);
  }
  // Judged twice with no word near it at all: it stands at once (a real race judged
  // before a lock word near it is learned late, racy_futex), even if a word is
  // learned afterwards.
  Tracked none{{kNone, kNone}};
  none.repeat({kNone, kNone});
  EXPECT_FALSE(none.tracked);
  none.learn(kLock);
  EXPECT_TRUE(none.reported_at_exit());
}

// Judged with the own flag once, then seen again: it stands (two verdicts, the
// latter judged with all racetrap knows).
TEST(FirstVerdictRules, RepeatWithTheNewWordReplacesAndAnotherConfirms) {
  Tracked v{{kNeighbour, kNeighbour}};
  v.learn(kOwnFlag);
  v.repeat({kOwnFlag, kOwnFlag}, false);
  EXPECT_EQ(v.words.carried, kOwnFlag);
  EXPECT_FALSE(v.reported_at_exit());
  v.repeat({kNeighbour, kOwnFlag});  // stale, but the tracked verdict is no longer in doubt of a new word
  EXPECT_EQ(v.verdicts, 2u);
  EXPECT_TRUE(v.reported_at_exit());
}

// Unchanged cases: a verdict whose watch carried the word still associated stands
// at its first repeat of the same orientation, whatever that repeat carried; one of
// the other orientation confirms it only when judged with its current word.
TEST(FirstVerdictRules, VerdictWithItsWordStandsAtARepeat) {
  const JudgedWords first{kLock, kLock};
  EXPECT_EQ(judge_repeat(first, {kNone, kLock}, true), RepeatOutcome::kCounts);
  EXPECT_EQ(judge_repeat(first, {kLock, kLock}, false), RepeatOutcome::kCounts);
  EXPECT_EQ(judge_repeat(first, {kNone, kNone}, false), RepeatOutcome::kCounts);
  EXPECT_EQ(judge_repeat(first, {kNone, kLock}, false), RepeatOutcome::kSaysNothing);
  EXPECT_EQ(judge_at_seal(first, 1), SealOutcome::kWithdrawnSeenOnceDespiteWord);
  EXPECT_EQ(judge_at_seal(first, 2), SealOutcome::kStands);
}

// No word anywhere: a plain race verdict stands, seen once or more.
TEST(FirstVerdictRules, VerdictNoWordExplainsStands) {
  const JudgedWords first{kNone, kNone};
  EXPECT_FALSE(explained_by_word_learned_since(first));
  EXPECT_EQ(judge_at_seal(first, 1), SealOutcome::kStands);
  EXPECT_EQ(judge_repeat(first, {kNone, kNone}, true), RepeatOutcome::kStands);
}

// The words a repeat carried and associates now are its own: a repeat whose access
// no learned word is near (another object) is current with none, and replaces an
// explained verdict; at exit it stands unless a word learned later explains it.
TEST(FirstVerdictRules, CurrentRepeatWithoutWordReplacesExplainedVerdict) {
  const JudgedWords first{kNone, kLock};
  EXPECT_EQ(judge_repeat(first, {kNone, kNone}, true), RepeatOutcome::kReplaces);
  EXPECT_EQ(judge_at_seal(JudgedWords{kNone, kNone}, 1), SealOutcome::kStands);
}

}  // namespace
}  // namespace racetrap
