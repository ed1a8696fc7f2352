// sampler.h — a sampling tick: pick the access the thread is about to make and
// publish it as a watch. signal-safe.
#pragma once

namespace racetrap {
struct ThreadState;

// `postponed`: the tick raise_postponed_tick sent (deferred_sample.h), already
// counted as a sample when it first came.
void on_sample_tick(ThreadState& t, void* ucontext, bool postponed = false);
}  // namespace racetrap
