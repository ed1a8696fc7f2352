// merged_traps.h — a breakpoint SIGTRAP and the traps merged into it. signal-safe.
//
// An access that fires several of the thread's debug registers at once reaches
// racetrap as one SIGTRAP, tagged with one of them: the kernel sends a signal for
// each register, and drops every one sent while the first is pending (SIGTRAP is
// not a real-time signal; lib/engine/breakpoint_hits.h). A flag store that is both
// the owner's release of its own watch's word and its acquire of another thread's
// watch on the same flag was seen that way: only the acquire arrived, the release
// was never recorded, and the other thread's conflict was judged a race. So the
// handler works out which other registers the same access fired (it decodes the
// instruction that ended at the trap's pc) and handles each of them as if its own
// signal had arrived; when that access cannot be known (the instruction does not
// decode, or the trap was delivered late with SIGTRAP blocked), a register it may
// have fired is handled as a trap racetrap cannot act on: its watch or its phase on
// a synchronization word ends without a verdict or a release recorded, so nothing
// is judged on the strength of a release that may have been lost.
#pragma once

#include <cstdint>

namespace racetrap {

struct ThreadState;

// The SIGTRAP of the thread's register `slot` (tagged with `generation`) arrived;
// `async`: delivered late (SIGTRAP was blocked); `room`: the handler's stack has
// room for the trap's work. Handles it and the traps merged into it.
void on_breakpoint_signal(ThreadState& t, void* ucontext, unsigned slot, uint64_t generation, bool async,
                          bool room);

// A sampling tick (of either clock) delivered at once (not late): before the
// sample, a register of the thread still waiting for its release write of a
// synchronization word whose write is the instruction that ended at the tick's pc
// is handled as that release. A CPU-time timer's SIGTRAP is queued even while
// another is pending, so one generated in the same return to the program as a
// breakpoint's, and queued ahead of it, makes the kernel drop the breakpoint's;
// the tick then arrives right after the store. Costs nothing unless a release is
// awaited (a decode then). A store that was not executed but jumped past would be
// taken for a release too: that can hide a race, never report one.
void on_tick_signal(ThreadState& t, void* ucontext);

}  // namespace racetrap
