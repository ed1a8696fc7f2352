// owner_progress.h — what another thread can tell about a watch owner's SIGTRAP
// handlers, by thread slot, without touching its ThreadState (which ends with the
// thread): how many of racetrap's handlers it has begun and finished, and which
// watch generation, if any, each of its debug registers waits on for its release
// of a learned synchronization word (sync_word_edges.h). signal-safe throughout:
// a fixed table of atomics.
//
// Why a handler count tells anything: a thread's data-breakpoint trap is taken right
// after the access and its SIGTRAP is delivered before the thread runs another
// instruction of its own, and racetrap's handler runs with every signal blocked. So
// the first of racetrap's handlers that a thread begins after one of its accesses
// trapped is that trap's (or, when the kernel dropped that trap's SIGTRAP for
// another sent with it, the other's, which handles it too: merged_traps.h); once a handler begun after some moment has finished, every
// trap the thread took before that moment has been handled.
#pragma once

#include <cstdint>

namespace racetrap {

// The calling thread (slot `thread_slot`) enters / leaves racetrap's SIGTRAP handler.
void note_handler_entry(uint32_t thread_slot);
void note_handler_exit(uint32_t thread_slot);
// Entries plus exits so far: odd while the thread is inside a handler.
uint64_t handler_sequence(uint32_t thread_slot);

// The calling thread's register of board slot `board_slot` now waits for its
// release write of the word of the watch of `generation` (0: it does not).
void note_release_watch(uint32_t thread_slot, int board_slot, uint64_t generation);
// Ends that wait if it was for `generation`.
void end_release_watch(uint32_t thread_slot, int board_slot, uint64_t generation);
uint64_t release_watch(uint32_t thread_slot, int board_slot);

// A thread slot given up (its thread ended): nothing waits there any more.
void forget_release_watches(uint32_t thread_slot);

}  // namespace racetrap
