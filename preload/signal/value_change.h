// value_change.h — the value-change detector (RACETRAP_MODE=value-change, or auto
// on a host whose debug registers never fire): at a sample, read the bytes of the
// access the thread is about to make, stall the thread for a bounded, random time
// re-reading them, and report a race when another thread changed them meanwhile.
// Contract: signal-safe; runs inside the sampling tick (sampler.cc).
#pragma once

namespace racetrap {
struct ThreadState;
struct MemoryAccess;
struct StackRecord;

// `access` passed the sampler's filters (not atomic unless reported, not this
// thread's stack or TLS, not libc's data, not annotated benign or ignored) and its
// diversity policy. `ucontext` is the tick's interrupted context. `stack`: the
// access's stack when the tick interrupted racetrap's own code and `access` is the
// program's first access after that call returns (deferred_sample.h); nullptr to
// take it from `ucontext`. Such a stall is as good as one at the access itself:
// the thread's lock call has made its acquire already (the tick is deferrable
// only then), and what remains of the call acquires nothing.
void sample_value_change(ThreadState& t, void* ucontext, const MemoryAccess& access, const StackRecord* stack);

}  // namespace racetrap
