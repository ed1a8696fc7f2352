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
// had registers armed, 9,700 of them in periods of 32 faults or more). So a period with many
// faults predicts the next one: at each tick the thread counts its minor faults
// since its last tick (getrusage RUSAGE_THREAD, read once a tick for this and
// the clock choice: clock_switch.h), and from kBurstFaults on its
// registers stay off (sync_debug_registers disarms them and arms none) until a
// tick whose period had fewer. kBurstFaults is twice what a pause costs: the
// disarms now and the re-arms after it, ~25 us for four registers, against ~0.9 us
// a fault saved.
// The burst's first period is seen before it happens where it starts with a large
// allocation that is not in memory yet (a compressor's block state: malloc of a
// fresh mapping): the allocator's interposers pause the thread at once
// (pause_for_fresh_block).
// What it gives up: meanwhile this thread's own accesses to the other threads'
// watches are not seen (its samples are still published and watched by the
// others). A register that waits on a synchronization word (sync_word_edges.h)
// keeps waiting: its phase is left to its own rules.
// signal-safe: the thread's own state (pause_for_fresh_block: one mincore and
// the disarms' ioctls too).
#pragma once

#include <cstddef>
#include <cstdint>

namespace racetrap {

struct ThreadState;

inline constexpr uint64_t kBurstFaults = 64;
// Blocks from this size up that the allocator gives out not yet in memory start a
// pause at once (pause_for_fresh_block): 256 pages, four times kBurstFaults.
inline constexpr size_t kFreshBlockBytes = 1 << 20;

// At a sampling tick, before its sample, with the thread's minor faults read at
// the tick (ThreadUsage, read once for this and the clock choice): updates
// t.registers_paused from the faults of the period that just ended. Only that
// flag: a tick inside racetrap's code, where a sync may be under way, leaves the
// registers to the next sync, which reads the flag first. The first tick after
// begin_watching only takes the count (the main thread's covers its life so far).
void note_faults_at_tick(ThreadState& t, uint64_t minor_faults);

// A block of kFreshBlockBytes or more that the allocator just gave the calling
// thread `t` (or nullptr): when the page at its middle is not in memory (mincore;
// a fresh mapping, not a reused one), the thread is about to fault it in, the
// burst a tick would see only a period later. It pauses at once: its registers
// off now (sync_debug_registers) and none armed until the pause ends, also where
// none was armed yet; its next tick ends the pause or keeps it, as for any period.
// Ordinary context, inside the allocator's runtime scope (a tick meanwhile leaves
// the registers alone).
void pause_for_fresh_block(ThreadState* t, const void* block, size_t bytes);

}  // namespace racetrap
