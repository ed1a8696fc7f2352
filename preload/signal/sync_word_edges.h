// sync_word_edges.h — happens-before through learned hand-written synchronization
// words (lib/engine/sync_words.h), in watchpoint mode. signal-safe.
//
// A sample that lands on a LOCK/XCHG instruction or on the load of a spin-wait loop
// teaches racetrap a synchronization word. A watch published near such a word in
// code and memory carries it (Watch::sync_word), and for as long as the watch lives
// the word's ordering is observed with debug registers, a few traps per watch and
// none per lock operation (the idea of Pacer: pay for synchronization only while a
// sample could need it):
//   - release: the owner of the watch points its own register of the watch's board
//     slot (free: a thread never arms its own watch) at the word, write-only; its
//     first write of the word after the sample (the unlock store, the flag store, or
//     its next XCHG) traps, and its clock goes into the word's clock;
//   - acquire: another thread about to arm the watch first points that register at
//     the word (reads and writes); its next access of the word (the XCHG or CMPXCHG
//     that takes the lock, the spin load that sees the flag) joins the word's clock.
//     When that orders the watch before the thread, the watch is never armed there:
//     the two accesses are ordered by the program's own synchronization.
// While the owner has not released the word since its sample, the word cannot
// order the watched access yet: another thread arms the watch's bytes at once (a
// conflict then is a race only if the owner had not released the word before it:
// released_after_early_arm), and goes to the word once the owner released it.
// When the thread touched the word before the owner released it (it spins on the
// lock or the flag, or read a flag the owner set before it wrote the data), the
// register goes to the watch's bytes, and a conflict is a race only if the owner
// had still not released the word (sync_word_orders_trap): a protected access comes
// after the owner's release, a payload written after its flag is read before the
// owner's next release. Whether the owner had released it is known from its own
// handlers, not from how long the record of its release takes to appear
// (owner_progress.h); when it cannot be known there is no verdict. A thread that
// does not touch the word within one of its sampling periods of its own work is
// done with the watch: the owner released the word before that phase began, so an
// access of the watch's bytes after it may be ordered by an access of the word
// that the register, once moved to the bytes, could not see (a ring's flag is
// touched once a round). A lock-skipping thread is found the other way round:
// its own samples' watches, whose word it never releases, conflict with the
// protected accesses of the threads that take the lock.
#pragma once

#include <cstdint>

#include "memory_access.h"
#include "watch_board.h"

namespace racetrap {

struct ThreadState;

// At a sample: learns the sampled access's word when it is the operand of a
// LOCK/XCHG lock-word instruction (a LOCK counter is learned as a counter: exempt,
// never associated) or the load of a spin-wait loop. `interrupted_pc`: where the
// thread was interrupted (code bytes in its page are copied without a syscall).
void learn_sync_word(ThreadState& t, const MemoryAccess& access, uint64_t interrupted_pc);

// At a watchpoint trap whose access is LOCK-prefixed or XCHG: learns its word.
void learn_sync_word_at_trap(ThreadState& t, const MemoryAccess& access, uint64_t interrupted_pc);

// At a race verdict on a watch that carries no word: learns the words of the
// LOCK/XCHG instructions and spin-wait loads (with addresses that need no register)
// of the code around `pc`: the loop it is in, from pc on (decoder.h,
// sync_words_near). The caller passes the trapping pc and the return addresses of
// the watch's stack (a lock or flag taken in the caller of a helper).
void learn_sync_words_in_code(ThreadState& t, uint64_t pc);

// Before the watch is published: the learned word it carries, if any.
void associate_sync_word(Watch& w);

// After the thread published `w` in board slot `slot` (generation `generation`):
// its own register of that slot watches the word for its release.
void watch_own_release(ThreadState& t, int slot, uint64_t generation, const Watch& w);

// In sync_debug_registers, for board slot `slot` holding `w` of `generation`:
// true when the register stays (or is now pointed) at the watch's word, false when
// the caller arms or disarms it as usual.
bool keep_on_sync_word(ThreadState& t, int slot, uint64_t generation, const Watch& w, bool want_arm);

// At a race verdict on board slot `slot`: true when this thread accessed the watch's
// word while the owner had not released it yet (it was waiting for the owner) and
// the owner has released it since: the wait ended with the owner's release, so the
// access is ordered after the sample (the word's clock is joined).
bool sync_word_orders_trap(ThreadState& t, unsigned slot, uint64_t generation, const Watch& w);

// At a race verdict on board slot `slot` whose bytes this thread armed before the
// owner released the watch's word (keep_on_sync_word): true when the owner has
// released it since, so the word may order the pair; the verdict is dropped and
// the register goes to the word at the next sync (the usual phase). While the
// owner has not released it, the verdict stands: nothing ordered the pair.
bool released_after_early_arm(ThreadState& t, unsigned slot, uint64_t generation, const Watch& w);

// At a race verdict on a watch that carries no word: learns the word of the
// hand-written synchronization this thread reaches next on its path from the trap
// (decoder.h, sync_words_ahead: past the end of the loop it is in, with the
// addresses its registers `regs` give), such as the flag of the next buffer of a
// ring it waits on after this one. A thread that has only ever been sampled in
// its data loops (the first ticks of a program whose threads hand buffers over
// through flags) has taught racetrap no word yet, and verdicts judged then would
// confirm each other (first_verdict_rules.h).
void learn_sync_words_ahead(ThreadState& t, const CpuRegisters& regs);

// At a race verdict on a watch that carries a word: true when the code this thread
// runs next stores through a pointer it holds (its registers `regs`, at the trap) to
// memory that would be associated with the watched bytes before the watch's word
// (nearer to them). The watch's word was a guess (sync_words.h, associate): in a
// ring of buffers, or objects that each have their own flag or lock, a buffer whose
// own flag is not learned yet gets a neighbour's, whose release orders nothing
// here; the thread about to set or clear the buffer's own flag shows which word
// the pair depends on. No verdict can be given then.
bool nearer_store_ahead(ThreadState& t, const CpuRegisters& regs, const Watch& w);

// Whether a watch carries no sync word though one would be associated with it now
// (learned after it was published).
bool learned_after_publication(const Watch& w);

// A trap of register `slot` the handler cannot act on (no stack left): the
// register's phase on a word ends without a release recorded.
void drop_sync_word_phase(ThreadState& t, unsigned slot);

// A trap of register `slot`: true when it was on a sync word (handled here).
bool on_sync_word_trap(ThreadState& t, unsigned slot, uint64_t generation, bool async);

}  // namespace racetrap
