// value_change.h — the value-change detector (RACETRAP_MODE=value-change, or auto
// on a host whose debug registers never fire): at a sample, read the bytes of the
// access the thread is about to make, stall the thread for a bounded, random time
// re-reading them, and report a race when another thread changed them meanwhile.
// Contract: signal-safe; runs inside the sampling tick (sampler.cc).
#pragma once

namespace racetrap {
struct ThreadState;
struct MemoryAccess;

// `access` passed the sampler's filters (not atomic unless reported, not this
// thread's stack or TLS, not libc's data, not annotated benign or ignored) and its
// diversity policy. `ucontext` is the tick's interrupted context.
void sample_value_change(ThreadState& t, void* ucontext, const MemoryAccess& access);

}  // namespace racetrap
