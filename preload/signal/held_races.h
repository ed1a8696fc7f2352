// held_races.h — first race verdicts that hand-written synchronization may still
// explain: written at once, withdrawn later if it does. signal-safe (atomics,
// fixed table, write(2)).
//
// Watchpoint mode orders accesses through a learned synchronization word only
// once a sample has taught racetrap the word (sync_word_edges.h); a watch published
// before that carries none, and a spin-lock-protected access can then look like a
// race. So the first verdict of a PC pair is written to the raw stream as usual
// (a crash or kill loses nothing) and also tracked here, as its judgement may be in
// doubt: its watch carried a word (whose sync phase did not order the pair, but
// which may have been the wrong one, e.g. a neighbour's flag in a ring of buffers
// learned before its own), or a word near the sampled access was learned since
// (the program's own synchronization may order it). The repeats of the pair decide
// (lib/engine/first_verdict_rules.h): one judged with the word racetrap associates
// with its access now counts as a verdict with it, or takes its place; a stale one
// says nothing. Every tracked verdict is settled when the stream is sealed (exit,
// exec), with the words learned by then: withdrawn (a kRaceWithdrawn record: the
// report leaves the pair out) when a word learned since explains it, or when its
// word was judged a race only once.
// A process that dies before sealing keeps every first verdict in its report.
#pragma once

#include <cstdint>

#include "race_record.h"

namespace racetrap {

// `r` has just been written to the raw stream; `word`: the synchronization word
// its watch carried (the owner never released it to this thread), or -1. False
// when the table is full (the verdict then simply stands).
bool track_first_verdict(const RaceRecord& r, int32_t word);
// A race verdict of a pair already recorded: which access was sampled, and the
// word its watch carried (or -1).
struct RepeatedVerdict {
  uint64_t sampled_pc = 0;
  uint64_t sampled_address = 0;
  uint64_t other_pc = 0;
  int32_t word = -1;
};
// The pair was judged a race again (either access sampled): counted for the tracked
// verdict of the pair, or replaces it, or says nothing (first_verdict_rules.h). True
// when one was tracked.
bool confirm_first_verdict(const RepeatedVerdict& repeat);
// The stream is about to be sealed: withdraws every tracked verdict still in doubt
// (see above).
void settle_first_verdicts();

}  // namespace racetrap
