// arming.h — a thread points its own debug registers at the board's watches.
// signal-safe; called at the thread's sampling tick and after intercepted
// synchronization (with the thread marked in-runtime, so a tick cannot interleave).
#pragma once

namespace racetrap {
struct ThreadState;
void sync_debug_registers(ThreadState& t);
// At the thread's sampling tick, before it syncs: the period that just ended ran with
// the registers armed as they are, so each armed watch gets one armed tick (its
// lifetime in other threads' CPU time, watch_board.h).
void count_armed_tick(ThreadState& t);
}  // namespace racetrap
