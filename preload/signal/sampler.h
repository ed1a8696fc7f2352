// sampler.h — a sampling tick: pick the access the thread is about to make and
// publish it as a watch. signal-safe.
#pragma once

namespace racetrap {
struct ThreadState;
class PcTable;
class RacePairSet;

void on_sample_tick(ThreadState& t, void* ucontext);

// The sampler's process-wide memory (lib/pc_diversity.h): per-PC counters and the
// PC pairs already reported as races. Written by ticks and traps. signal-safe.
PcTable& sampled_pcs();
RacePairSet& reported_pairs();
}  // namespace racetrap
