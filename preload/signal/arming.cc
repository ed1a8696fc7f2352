// arming.cc — sync the calling thread's debug registers with the watch board.
// signal-safe: board reads (seqlock) and ioctls on the thread's own fds.
#include "arming.h"

#include "sync_word_edges.h"
#include "thread_state.h"
#include "watch_decisions.h"

namespace racetrap {

void sync_debug_registers(ThreadState& t) {
  Runtime& rt = runtime();
  const uint64_t version = rt.board.version();
  if (!t.watching) return;
  if (t.registers_paused) {  // taking page faults fast (fault_burst.h)
    for (int i = 0; i < kMaxWatchSlots; ++i) {
      if (t.sync_generation[i] == 0 && t.breakpoints[i].armed()) t.breakpoints[i].disarm();
    }
    t.board_version_seen = 0;  // the first sync after the pause looks at every slot
    return;
  }
  if (version == t.board_version_seen) {
    // A register waiting on a sync word for another thread's watch gives up at a
    // later tick (sync_word_edges.h): look again even when the board is unchanged.
    bool waiting = false;
    for (int i = 0; i < kMaxWatchSlots; ++i) waiting |= t.sync_generation[i] != 0;
    if (!waiting) return;
  }
  bool complete = true;
  Watch& w = t.scratch_watch;
  for (int i = 0; i < rt.board.slots(); ++i) {
    const uint64_t gen = rt.board.read(i, &w, /*with_stack=*/false);
    if (gen == WatchBoard::kBusy) {
      complete = false;
      continue;
    }
    BreakpointSlot& bp = t.breakpoints[i];
    const bool want = should_arm(w, gen, t.uid, t.clock, t.done_generation[i]);
    if (keep_on_sync_word(t, i, gen, w, want)) continue;
    if (want) {
      if (!(bp.armed() && bp.armed_generation() == gen) && bp.arm(w.bp_address, w.bp_size, w.bp_type, gen)) {
        rt.stats.arms.fetch_add(1, std::memory_order_relaxed);
        rt.board.note_armed(i, gen, monotonic_ns());  // for early retirement of unshared watches
      }
    } else if (bp.armed()) {
      bp.disarm();
    }
  }
  if (complete) t.board_version_seen = version;
}

void count_tick_on_board(const ThreadState& t) {
  Runtime& rt = runtime();
  for (int i = 0; i < rt.board.slots(); ++i) rt.board.note_other_tick(i, t.uid);
}

}  // namespace racetrap
