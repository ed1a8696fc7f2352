// watch_decisions.cc — see watch_decisions.h. signal-safe.
#include "watch_decisions.h"

namespace racetrap {

void build_watch(const MemoryAccess& access, const WatchOwner& owner, uint64_t now_ns, Watch* out) {
  out->access = access;
  breakpoint_range_for(access, &out->bp_address, &out->bp_size);
  out->bp_type = writes(access.kind) ? BreakpointType::kReadWrite : BreakpointType::kWrite;
  out->owner_uid = owner.uid;
  out->owner_slot = owner.slot;
  out->owner_tid = owner.tid;
  owner.clock->tick(owner.slot);
  out->owner_epoch = owner.clock->get(owner.slot);
  out->published_ns = now_ns;
}

bool should_arm(const Watch& w, uint64_t generation, uint32_t my_uid, const VectorClock& my_clock,
                uint64_t done_generation) {
  return generation != 0 && w.owner_uid != my_uid && done_generation != generation &&
         my_clock.get(w.owner_slot) < w.owner_epoch;
}

}  // namespace racetrap
