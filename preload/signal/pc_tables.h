// pc_tables.h — the signal path's process-wide PC memory (lib/engine/pc_diversity.h):
// per-PC and per-code-line sample counters, read and bumped by the sampler and the trap, and the PC
// pairs already recorded as races, kept by the trap. signal-safe (atomics only).
#pragma once

namespace racetrap {
class PcTable;
class RacePairSet;

PcTable& sampled_pcs();
// The same counters per 64-byte line of code (code_line()), for admit_tick.
PcTable& sampled_lines();
RacePairSet& reported_pairs();
}  // namespace racetrap
