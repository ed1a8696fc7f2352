// fault_burst.h — a thread that is taking page faults fast keeps its debug
// registers off until a sampling period with few faults.
//
// Why: an enabled data breakpoint slows the kernel's clearing of a fresh page at
// the thread's first touch (its rep stosb leaves the fast-string path, as the
// program's own do: plain_string_ops.h), whatever address the register watches:
// ~0.9 us more a fault on the AMD host measured, 1.5 -> 2.4 us (bench/armed_switch
// fault). Programs take their faults in bursts: a compressor's fresh block state,
// 300-1,200 faults in each of two to four consecutive 2 ms sampling periods, then
// none for tens of periods (pbzip2: 9,800 of a run's faults came while its threads
// had registers armed, 9,700 of them in such periods). So a period with many
// faults predicts the next one: at each tick the thread counts its minor faults
// since its last tick (getrusage RUSAGE_THREAD, read once a tick for this and
// the clock choice: clock_switch.h), and from kBurstFaults on its
// registers stay off (sync_debug_registers disarms them and arms none) until a
// tick whose period had fewer. kBurstFaults is twice what a pause costs: the
// disarms now and the re-arms after it, ~25 us for four registers, against ~0.9 us
// a fault saved.
// What it gives up: meanwhile this thread's own accesses to the other threads'
// watches are not seen (its samples are still published and watched by the
// others). A register that waits on a synchronization word (sync_word_edges.h)
// keeps waiting: its phase is left to its own rules.
// signal-safe: the thread's own state.
#pragma once

#include <cstdint>

namespace racetrap {

struct ThreadState;

inline constexpr uint64_t kBurstFaults = 64;

// At a sampling tick, before its sample, with the thread's minor faults read at
// the tick (ThreadUsage, read once for this and the clock choice): updates
// t.registers_paused from the faults of the period that just ended. When it
// changes, the next sync_debug_registers looks at every slot again.
void note_faults_at_tick(ThreadState& t, uint64_t minor_faults);

}  // namespace racetrap
