// sampler.h — a sampling tick: pick the access the thread is about to make and
// publish it as a watch. signal-safe.
#pragma once

namespace racetrap {
struct ThreadState;

void on_sample_tick(ThreadState& t, void* ucontext);
}  // namespace racetrap
