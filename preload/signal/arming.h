// arming.h — a thread points its own debug registers at the board's watches.
// signal-safe; called at the thread's sampling tick and after intercepted
// synchronization (with the thread marked in-runtime, so a tick cannot interleave).
#pragma once

namespace racetrap {
struct ThreadState;
void sync_debug_registers(ThreadState& t);
}  // namespace racetrap
