// deferred_sample.h — a sampling tick that lands inside racetrap's own code (an
// interposer, or the allocator it wraps) is not wasted: the access the program
// makes right after that call returns is found from the caller's frame.
// In lock-heavy programs most CPU time is in the lock calls, and the accesses
// right after them (the critical section, or the racy access after the unlock)
// are exactly the ones worth watching.
#pragma once

#include "decoder.h"
#include "memory_access.h"
#include "perf_events.h"
#include "race_record.h"

namespace racetrap {
struct ThreadState;

// signal-safe. The memory accesses of the program's code from the return address
// of the racetrap call that the signal interrupted, on the path it will certainly
// take (decode_path_accesses_until: up to the `max_usable`th that passes `filter`,
// at most `max_out`), computed only from registers that survive the call (rsp,
// callee-saved, rip-relative): the path is walked with the clobbered registers set
// to one pattern and again with them zero, and only accesses both walks list at
// the same pc and address are kept, so neither an address nor a branch decided by
// a clobbered register (the call's return value) counts. `stack` gets the
// program's stack from the return address (frames[0]: the caller sets it to the
// access it chooses). Their count; 0 when there is none.
int accesses_after_runtime_call(ThreadState& t, void* ucontext, const AccessFilter& filter, int max_usable,
                                MemoryAccess* out, int max_out, StackRecord* stack);

// signal-safe. A tick that came while the thread was inside an interposer with an
// acquire still to come (ThreadState::deferrable was kNotDeferrable) is not
// dropped: the sampler marks it kTickPostponed, and mark_deferrable, once the
// acquire is made, calls this, which sends the thread the sampling tick's own
// signal (a SIGTRAP carrying the tick's perf data, queued to itself): it arrives
// on the syscall's return, inside the same interposer, now deferrable, and samples
// the program's access after the call as any deferred sample does. Counted
// (samples_postponed).
void raise_postponed_tick();

// signal-safe. Sends the calling thread a SIGTRAP that reads as racetrap's tick of
// `kind` (sig_data), as the kernel's perf signal would: it arrives on the system
// call's return.
void raise_own_tick(sig_data::Kind kind);
}  // namespace racetrap
