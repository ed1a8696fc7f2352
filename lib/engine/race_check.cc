// race_check.cc — overlap, conflict, atomicity and happens-before at a trap.
// signal-safe.
#include "race_check.h"

#include "report_policy.h"

namespace racetrap {

const char* trap_verdict_name(TrapVerdict v) {
  switch (v) {
    case TrapVerdict::kRace: return "race";
    case TrapVerdict::kOrdered: return "ordered";
    case TrapVerdict::kSameThread: return "same-thread";
    case TrapVerdict::kNoOverlap: return "no-overlap";
    case TrapVerdict::kBothRead: return "both-read";
    case TrapVerdict::kAtomic: return "atomic";
  }
  return "?";
}

TrapVerdict judge_trap(const Watch& watch, const MemoryAccess* access, uint32_t my_uid,
                       const VectorClock& my_clock, bool report_atomics) {
  if (watch.owner_uid == my_uid) return TrapVerdict::kSameThread;
  bool trap_writes = watch.bp_type == BreakpointType::kWrite;
  bool trap_atomic = false;
  if (access != nullptr) {
    const MemoryAccess& w = watch.access;
    uint64_t w_end = w.address + (w.size ? w.size : 1);
    uint64_t a_end = access->address + (access->size ? access->size : 1);
    if (!(access->address < w_end && w.address < a_end)) return TrapVerdict::kNoOverlap;
    trap_writes = writes(access->kind);
    trap_atomic = access->atomic;
  }
  if (!trap_writes && !writes(watch.access.kind)) return TrapVerdict::kBothRead;
  if (atomics_exempt(trap_atomic, watch.access.atomic, report_atomics)) return TrapVerdict::kAtomic;
  if (my_clock.get(watch.owner_slot) >= watch.owner_epoch) return TrapVerdict::kOrdered;
  return TrapVerdict::kRace;
}

}  // namespace racetrap
