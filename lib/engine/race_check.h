// race_check.h — the decision at a watchpoint trap: is the access that trapped in
// a data race with the watched (sampled) access? Pure function of its inputs.
// Contract: signal-safe.
#pragma once

#include "memory_access.h"
#include "vector_clock.h"
#include "watch_board.h"

namespace racetrap {

enum class TrapVerdict : uint8_t {
  kRace,        // conflicting and unordered: report it
  kOrdered,     // the sampled access happens-before this one
  kSameThread,  // the trapping thread owns the watch
  kNoOverlap,   // the access touched the register's block but not the sampled bytes
  kBothRead,    // neither access writes
  kAtomic,      // an atomic access is involved and atomics are not reported
};

const char* trap_verdict_name(TrapVerdict v);

// `access` is the decoded trapping access, or nullptr when it could not be decoded
// (then the register's own type stands in: it fired, so it overlapped; a write-only
// register means a write).
TrapVerdict judge_trap(const Watch& watch, const MemoryAccess* access, uint32_t my_uid,
                       const VectorClock& my_clock, bool report_atomics);

}  // namespace racetrap
