// fault_burst.cc — registers off while the thread takes page faults fast.
// signal-safe (see header).
#include "fault_burst.h"

#include "thread_state.h"

namespace racetrap {

void note_faults_at_tick(ThreadState& t, uint64_t minor_faults) {
  const bool burst = minor_faults - t.minor_faults_at_tick >= kBurstFaults;
  t.minor_faults_at_tick = minor_faults;
  if (burst == t.registers_paused) return;
  t.registers_paused = burst;
  t.board_version_seen = 0;  // the next sync looks at every slot
  if (burst) runtime().stats.fault_pauses.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace racetrap
