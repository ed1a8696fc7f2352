// benign_races.h — address ranges the program declared benign
// (AnnotateBenignRaceSized / AnnotateBenignRace, racetrap/annotations.h).
// A fixed table of kMaxBenignRaces ranges, appended lock-free; once full, further
// declarations are dropped (add_benign_race returns false; the annotation entry
// point says so once on stderr at verbosity >= 1).
// Contract: is_benign_race_address is async-signal-safe (atomic loads only) and
// may be called from the sampler and the watchpoint trap; add_benign_race is
// ordinary context.
#pragma once

#include <cstdint>

namespace racetrap {

constexpr int kMaxBenignRaces = 256;

// True when [addr, addr + size) overlaps a range declared benign. size 0 counts as 1.
bool is_benign_race_address(uint64_t addr, uint32_t size);

// Declares [addr, addr + size) benign. False when the table is full.
// Ordinary context (lock-free all the same).
bool add_benign_race(uint64_t addr, uint64_t size);

}  // namespace racetrap
