// pc_tables.cc — see pc_tables.h.
#include "pc_tables.h"

#include "pc_diversity.h"

namespace racetrap {
namespace {

// Constant-initialized (atomics only), so they exist before any thread samples.
PcTable the_pcs;
PcTable the_lines;
RacePairSet the_pairs;

}  // namespace

PcTable& sampled_pcs() { return the_pcs; }
PcTable& sampled_lines() { return the_lines; }
RacePairSet& reported_pairs() { return the_pairs; }

}  // namespace racetrap
