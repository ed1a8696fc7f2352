// held_races.h — first race verdicts held back while hand-written synchronization
// may still be learned. signal-safe (atomics, fixed table, write(2)).
//
// Watchpoint mode orders accesses through a learned synchronization word only
// once a sample has taught racetrap the word (sync_word_edges.h); a watch published
// before that carries none, and a spin-lock-protected access can then look like a
// race. So the first verdict of a PC pair whose watch carries no word is held here
// instead of written: it is written when the pair is judged a race a second time,
// or when the stream is sealed (exit, exec), unless by then a word near the sampled
// access was learned (then the program's own synchronization may order it, and the
// watches of that code are judged with the word from now on). A watch that carried
// a word whose sync phase did not order it (sync_word_edges.h) is held too, is
// written only when seen again, and is dropped when a word learned since would now
// be associated instead (the first was the wrong one: a neighbour's flag in a ring
// of buffers learned before its own). Such a pair seen once is not reported.
// A process killed before either loses a race seen only once.
#pragma once

#include <cstdint>

#include "race_record.h"

namespace racetrap {

// Holds `r` (its thread and memory records already logged); `word`: the
// synchronization word its watch carried (the owner never released it to this
// thread), or -1. False when the table is full (the caller writes it now).
bool hold_race(const RaceRecord& r, int32_t word);
// The pair (sampled_pc, other_pc) was judged a race again: writes its held record
// (unless a word near it was learned meanwhile). True when one was held.
bool release_held_race(uint64_t sampled_pc, uint64_t other_pc);
// Writes every held record not explained by a learned word (the stream is about
// to be sealed).
void flush_held_races();

}  // namespace racetrap
