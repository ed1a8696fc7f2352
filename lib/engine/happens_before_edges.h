// happens_before_edges.h — the vector-clock edges of every synchronization the
// preload intercepts, as the engine defines them; the preload's interposers and
// the interleaving tests both build on these:
//   acquire  the object's clock joins into the thread's
//   release  the thread's clock goes into the object's, then the thread ticks (what
//            it does next is not before whoever acquires later)
//   create   the child starts from the parent's clock at its own first epoch; the
//            parent ticks
//   join     the finished thread's clock joins into the joiner's
// `who` names the thread for the sync table's sole-releaser shortcut (uid + 1,
// object_clock.h). Ordinary context (the sync table allocates).
#pragma once

#include <cstdint>

#include "sync_clocks.h"
#include "vector_clock.h"

namespace racetrap {

inline void acquire_edge(SyncClockTable& sync, uintptr_t object, VectorClock& clock, uint32_t who) {
  sync.acquire(object, clock, who);
}

inline void release_edge(SyncClockTable& sync, uintptr_t object, VectorClock& clock, uint32_t slot, uint32_t who) {
  sync.release(object, clock, who);
  clock.tick(slot);
}

inline void create_edge(VectorClock& child, uint32_t child_slot, Epoch child_first_epoch, VectorClock* parent,
                        uint32_t parent_slot) {
  if (parent != nullptr) {
    child.assign(*parent);
    parent->tick(parent_slot);
  }
  child.set(child_slot, child_first_epoch);
}

inline void join_edge(VectorClock& joiner, const VectorClock& finished) { joiner.join(finished); }

}  // namespace racetrap
