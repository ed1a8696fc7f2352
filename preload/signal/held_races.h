// held_races.h — first race verdicts that hand-written synchronization may still
// explain: written at once, withdrawn later if it does. signal-safe (atomics,
// fixed table, write(2)).
//
// Watchpoint mode orders accesses through a learned synchronization word only
// once a sample has taught racetrap the word (sync_word_edges.h); a watch published
// before that carries none, and a spin-lock-protected access can then look like a
// race. So the first verdict of a PC pair is written to the raw stream as usual
// (a crash or kill loses nothing) and also tracked here. It stands when the pair
// is judged a race a second time. It is withdrawn (a kRaceWithdrawn record: the
// report leaves the pair out) when the pair was seen only once by the time the
// stream is sealed (exit, exec) and either a word near the sampled access was
// learned since (the program's own synchronization may order it, and the watches
// of that code are judged with the word from now on), or its watch carried a word
// whose sync phase did not order it (sync_word_edges.h: the word may have been the
// wrong one, e.g. a neighbour's flag in a ring of buffers learned before its own).
// A process that dies before sealing keeps every first verdict in its report.
#pragma once

#include <cstdint>

#include "race_record.h"

namespace racetrap {

// `r` has just been written to the raw stream; `word`: the synchronization word
// its watch carried (the owner never released it to this thread), or -1. False
// when the table is full (the verdict then simply stands).
bool track_first_verdict(const RaceRecord& r, int32_t word);
// The pair (sampled_pc, other_pc) was judged a race again: its first verdict
// stands (unless a word near it was learned meanwhile: then it is withdrawn).
// True when one was tracked.
bool confirm_first_verdict(uint64_t sampled_pc, uint64_t other_pc);
// The stream is about to be sealed: withdraws every tracked verdict seen once
// that a word explains (see above).
void settle_first_verdicts();

}  // namespace racetrap
