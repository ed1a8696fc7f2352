// held_races.h — first race verdicts that hand-written synchronization may still
// explain: written at once, withdrawn later if it does. signal-safe (atomics,
// fixed table, write(2)).
//
// Watchpoint mode orders accesses through a learned synchronization word only
// once a sample has taught racetrap the word (sync_word_edges.h); a watch published
// before that carries none, or a neighbour's (a ring of buffers whose first flag
// was learned before the others: a watch near a flag not learned yet carries the
// nearest learned one, whose release orders nothing there), and a race-free
// access can then look like a race, again and again until the right word is
// learned. So the first verdict of a PC pair is written to the raw stream as usual
// (a crash or kill loses nothing) and also tracked here until the stream is sealed
// (exit, exec), with the word its verdicts were judged with and how many were.
// Then it is withdrawn (a kRaceWithdrawn record: the report leaves the pair out)
// when the word racetrap associates with the sampled access now differs from that
// word (one learned since: the program's own synchronization may order the pair,
// and the watches there are judged with it from then on), or when that word is one
// and the pair was judged a race with it only once (its sync phase did not order
// the pair, but the release may have been missed). It stands otherwise: judged a
// race twice with the word known at the end, or with none learned near it.
// A repeat judged with another word than the tracked one, which is the word
// associated at that time, takes its place (counted once); a repeat judged with a
// word no longer associated then says nothing. The decision waits for the seal
// because a word learned after the repeats can still show them judged with the
// wrong one (hand_flag_ring: two verdicts on a flag judged with a neighbour's
// flag before its own was learned stood as a report).
// A process that dies before sealing keeps every first verdict in its report.
#pragma once

#include <cstdint>

#include "race_record.h"

namespace racetrap {

// `r` has just been written to the raw stream; `word`: the synchronization word
// its watch carried (the owner never released it to this thread), or -1. False
// when the table is full (the verdict then simply stands).
bool track_first_verdict(const RaceRecord& r, int32_t word);
// The pair (sampled_pc, other_pc) was judged a race again, its watch (of bytes at
// sampled_address) carrying `word` (or -1): counted for the tracked verdict (see
// above). True when one was tracked.
bool confirm_first_verdict(uint64_t sampled_pc, uint64_t sampled_address, uint64_t other_pc, int32_t word);
// The stream is about to be sealed: withdraws every tracked verdict the word
// associated now does not leave standing (see above).
void settle_first_verdicts();

}  // namespace racetrap
