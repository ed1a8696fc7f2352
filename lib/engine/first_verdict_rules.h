// first_verdict_rules.h — whether a first race verdict that hand-written
// synchronization may explain stands, is replaced by a repeat, or is withdrawn.
// signal-safe (plain comparisons).
//
// In watchpoint mode a watch is judged with the learned synchronization word
// associated with its sampled access when it was published (sync_words.h), or with
// none. A first verdict of a PC pair is written at once and tracked
// (preload/signal/held_races.h) while its judgement is in doubt:
//   - its watch carried a word: the word's sync phase did not order the pair, but
//     the word may have been the wrong one (a neighbour's flag in a ring of
//     buffers): it takes a second verdict of the pair;
//   - a word learned since it was published is associated with its sampled access
//     now ("explained"): it was judged without the synchronization that may order
//     it, so it is no verdict at all.
// A repeat of the pair (either thread sampled: the report is of the unordered pair)
// is judged by what its own watch carried. It is "current" when the word its watch
// carried (or none) is still the one associated with its sampled access: it was
// judged with all racetrap knows now, so it is a verdict in its own right. A stale
// repeat (published before a word now associated with it was learned) is no more
// a verdict than an explained first one. The rules, in order:
//   1. the tracked verdict is not explained, and the repeat is current or of the
//      same orientation: the pair was judged a race again with the tracked word;
//      counted when that is a word, and it stands at once when it is none (no
//      learned word near it to be the wrong one);
//   2. the repeat is current: it takes the tracked verdict's place, counted once (a
//      verdict with a word still needs a second one; one with none stands at the
//      seal unless a word learned later explains it);
//   3. otherwise the repeat says nothing: the tracked verdict stays as it is.
// Every other tracked verdict stays tracked until the seal (exit, exec), when it is
// withdrawn if it is explained then, or if its word is one and fewer than two
// verdicts were judged with it (seen once despite its word); otherwise it stands.
// Counting repeats rather than standing at the first one: the word "associated now"
// at a repeat can itself still be the wrong one. In a ring of buffers whose flags
// are learned one by one, a watch near a flag not learned yet carries a
// neighbour's, and every repeat judged before the buffer's own flag is learned is
// "current" with that neighbour's flag; only the seal, with the flags learned by
// then, shows them judged with the wrong word (hand_flag_ring's residual false
// report: two such verdicts, the second standing at once). A verdict judged with
// no word that a second one confirms stands at once: a real race judged many times
// before a lock word near it is learned late in the run (racy_futex) would
// otherwise be withdrawn at the seal. The rule trusts "no word near it" only as far
// as racetrap has had a chance to learn one: in the first ticks of a flag ring
// whose threads were sampled only in their data loops, two or four verdicts with
// no word at all were judged before any flag was learned and stood at once
// (hand_flag_ring's false report of the payload pair, 1 run in 11 to 40). So at
// such a verdict the trapping thread's path ahead is searched for the flag or lock
// it reaches next (sync_word_edges.h, learn_sync_words_ahead), and a word learned
// there leaves the verdict ungiven (learned after the watch was published).
//
// Why a repeat is not simply a confirmation: a false first verdict on race-free
// hand-written synchronization is judged before its word is learned, and a repeat
// judged as stale as it proves nothing. Why an explained first verdict is not
// simply withdrawn at a repeat: on a true race (a thread that skips the spin lock)
// the repeats judged with the now-learned word keep finding the pair unordered.
#pragma once

#include <cstdint>

namespace racetrap {

// Words are SyncWords entries (sync_words.h), -1 for none.
struct JudgedWords {
  int32_t carried = -1;  // the word its watch carried when published
  int32_t now = -1;      // the word associated with its sampled access now
};

// A tracked verdict's judgement is in doubt only because of a word learned since.
inline bool explained_by_word_learned_since(const JudgedWords& w) { return w.now >= 0 && w.now != w.carried; }
// A verdict judged with the word racetrap would associate with its access now.
inline bool judged_with_current_word(const JudgedWords& w) { return w.now == w.carried; }

enum class RepeatOutcome {
  kStands,       // judged twice with no word near it: it stands, no longer tracked
  kCounts,       // one more verdict judged with the tracked word (a word)
  kReplaces,     // the repeat becomes the tracked verdict (its first verdict)
  kSaysNothing,  // the tracked verdict stays tracked as it is
};

// A repeat of the tracked verdict's PC pair; `same_orientation`: the same access
// was the sampled one.
RepeatOutcome judge_repeat(const JudgedWords& tracked, const JudgedWords& repeat, bool same_orientation);

enum class SealOutcome {
  kStands,
  kWithdrawnSeenOnceDespiteWord,  // its watch carried a word and no second verdict came
  kWithdrawnExplained,            // a word learned since explains it
};

// The stream is about to be sealed with the verdict still tracked; `verdicts`: how
// many were judged with its word (the first, or the repeat that replaced it, and
// those counted since).
SealOutcome judge_at_seal(const JudgedWords& tracked, uint32_t verdicts);

}  // namespace racetrap
