// pc_tables.h — the signal path's process-wide PC memory (lib/engine/pc_diversity.h):
// per-PC sample counters, read and bumped by the sampler and the trap, and the PC
// pairs already recorded as races, kept by the trap. signal-safe (atomics only).
#pragma once

namespace racetrap {
class PcTable;
class RacePairSet;

PcTable& sampled_pcs();
RacePairSet& reported_pairs();
}  // namespace racetrap
