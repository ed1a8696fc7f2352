// happens_before_edges.h — the vector-clock edges of every synchronization the
// preload intercepts, as the engine defines them; the preload's interposers and
// the interleaving tests both build on these:
//   acquire  the object's clock joins into the thread's
//   release  the thread's clock joins into the object's
//   create   the child starts from the parent's clock at its own first epoch; the
//            parent ticks
//   join     the finished thread's clock joins into the joiner's
//   sample   the sampled thread ticks, and its watch carries the new epoch
//            (build_watch, watch_decisions.h)
//
// Where a thread's epoch ticks (sampling-proportional happens-before): a watch
// only asks whether a thread's access is ordered after one sampled access (the
// trapping thread's clock covers the owner's epoch at the sample), and only the
// synchronization after the sample can order that. The owner ticks when it is
// sampled, so the watch's epoch is one no other clock holds yet: it reaches another
// thread only along release/acquire chains that start after the sample, exactly as
// the happens-before order has it. Releases need not tick (what a thread did
// before its sample may look ordered after a release it did later, but no watch
// asks about that), so thread clocks change about as often as threads are sampled,
// and a release or acquire of a clock the object already holds is a comparison of
// two ids (object_clock.h). Every such change also moves one process-wide clock
// generation (vector_clock.h): between samples, once the epochs have spread, it
// stands still, and a thread that noted an object's clock equal to its own at that
// generation (synced_objects.h) locks and unlocks it without reading the object's
// clock at all.
// Ordinary context (the sync table allocates).
#pragma once

#include <cstdint>

#include "sync_clocks.h"
#include "vector_clock.h"

namespace racetrap {

inline void acquire_edge(SyncClockTable& sync, uintptr_t object, VectorClock& clock) { sync.acquire(object, clock); }

inline void release_edge(SyncClockTable& sync, uintptr_t object, const VectorClock& clock) {
  sync.release(object, clock);
}

inline void create_edge(VectorClock& child, uint32_t child_slot, Epoch child_first_epoch, VectorClock* parent,
                        uint32_t parent_slot) {
  if (parent != nullptr) {
    child.assign(*parent);
    parent->tick(parent_slot);
  }
  child.set(child_slot, child_first_epoch);
  child.ensure_id();
}

inline void join_edge(VectorClock& joiner, const VectorClock& finished) { joiner.join(finished); }

}  // namespace racetrap
