// arming.h — a thread points its own debug registers at the board's watches.
// signal-safe; called at the thread's sampling tick and after intercepted
// synchronization (with the thread marked in-runtime, so a tick cannot interleave).
#pragma once

namespace racetrap {
struct ThreadState;
void sync_debug_registers(ThreadState& t);
// At the thread's sampling tick: every watch on the board that another thread owns
// is one sampling period of this thread's CPU time older (its lifetime in other
// threads' CPU time, watch_board.h).
void count_tick_on_board(const ThreadState& t);
}  // namespace racetrap
