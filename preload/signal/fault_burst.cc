// fault_burst.cc — registers off while the thread takes page faults fast.
// signal-safe (see header).
#include "fault_burst.h"

#include <sys/mman.h>

#include <cstdint>

#include "arming.h"
#include "registers_off.h"
#include "signal_safety.h"
#include "thread_state.h"

namespace racetrap {

void note_faults_at_tick(ThreadState& t, uint64_t minor_faults) {
  if (t.minor_faults_at_tick == 0) {  // no count yet: the main thread's first covers its whole life
    t.minor_faults_at_tick = minor_faults;
    return;
  }
  const bool burst = minor_faults - t.minor_faults_at_tick >= kBurstFaults;
  t.minor_faults_at_tick = minor_faults;
  if (burst == t.registers_paused) return;
  t.registers_paused = burst;
  if (burst) runtime().stats.fault_pauses.fetch_add(1, std::memory_order_relaxed);
}

void pause_for_fresh_block(ThreadState* t, const void* block, size_t bytes) {
  if (t == nullptr || !t->watching || t->registers_paused) return;
  ErrnoKeeper keep;
  // Its middle page: the first holds the allocator's own header, written already.
  constexpr uintptr_t kPage = 4096;
  const uintptr_t middle = (reinterpret_cast<uintptr_t>(block) + bytes / 2) & ~(kPage - 1);
  unsigned char resident = 0;
  if (mincore(reinterpret_cast<void*>(middle), kPage, &resident) != 0 || (resident & 1) != 0) return;
  t->registers_paused = true;
  runtime().stats.fault_pauses_at_alloc.fetch_add(1, std::memory_order_relaxed);
  if (armed_registers(*t) != 0) sync_debug_registers(*t);  // switches them off
}

}  // namespace racetrap
