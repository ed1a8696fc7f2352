// deferred_sample.h — a sampling tick that lands inside racetrap's own code (an
// interposer, or the allocator it wraps) is not wasted: the access the program
// makes right after that call returns is found from the caller's frame.
// In lock-heavy programs most CPU time is in the lock calls, and the accesses
// right after them (the critical section, or the racy access after the unlock)
// are exactly the ones worth watching.
#pragma once

#include "memory_access.h"
#include "race_record.h"

namespace racetrap {
struct ThreadState;

// signal-safe. The first memory access of the program's code at the return address
// of the racetrap call that the signal interrupted, computed only from registers
// that survive the call (rsp, callee-saved, rip-relative), and the program's stack
// from there. False when there is none or the address needs a clobbered register.
bool access_after_runtime_call(ThreadState& t, void* ucontext, MemoryAccess* out, StackRecord* stack);
}  // namespace racetrap
