// watch_decisions.h — the engine's decisions about watches, called by the
// preload's sampler and arming code and by the interleaving tests alike:
//   - which watch a sampled access becomes (debug-register block and type, owner,
//     the owner's epoch at the sample);
//   - whether a thread arms one of its debug registers on a board watch.
// Which accesses are worth a watch at all is report_policy.h; the verdict at a
// trap is race_check.h. Contract: signal-safe, pure functions of their inputs.
#pragma once

#include <cstdint>

#include "memory_access.h"
#include "vector_clock.h"
#include "watch_board.h"

namespace racetrap {

// Who samples: the thread's uid, slot and OS tid, and its own clock.
struct WatchOwner {
  uint32_t uid = 0;
  uint32_t slot = 0;
  uint32_t tid = 0;
  VectorClock* clock = nullptr;
};

// Fills the watch for `access`: the debug-register block that covers it, RW for a
// sampled write (any other access conflicts) and W for a sampled read (only
// writes do), the owner and its epoch at the sample, the publication time. The
// value, the stack, the held locks and expected_arms are the caller's.
// The owner's clock ticks first (happens_before_edges.h: releases do not tick, a
// sample does), so the watch's epoch is known to no other thread yet. Called by
// the owner itself, at a point where none of its own edges is in progress (its
// sampling tick outside racetrap's code, or a deferred sample, which is only
// taken after an interposer's last edge): the clock is reserved, set() allocates
// nothing.
void build_watch(const MemoryAccess& access, const WatchOwner& owner, uint64_t now_ns, Watch* out);

// Whether a thread (uid `my_uid`, clock `my_clock`) arms a register on the board
// watch `w` of generation `generation`: never its own watch, never a generation
// it already trapped on (`done_generation`: one-shot), never one already ordered
// before it (its clock covers the owner's epoch: the watch can never race with
// anything this thread does from now on). Generation 0 is an empty slot.
bool should_arm(const Watch& w, uint64_t generation, uint32_t my_uid, const VectorClock& my_clock,
                uint64_t done_generation);

}  // namespace racetrap
