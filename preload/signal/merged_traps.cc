// merged_traps.cc — see merged_traps.h. signal-safe throughout.
#include "merged_traps.h"

#include "breakpoint_hits.h"
#include "decoder.h"
#include "signal_context.h"
#include "sync_word_edges.h"
#include "thread_state.h"
#include "watchpoint_trap.h"

namespace racetrap {
namespace {

// The thread's other registers the access behind the trap of `slot` fired too
// (`fired`), and those it may have fired when that access is not known (`maybe`):
// a bit per register, with the generation each was armed for.
struct MergedTraps {
  uint32_t fired = 0;
  uint32_t maybe = 0;
  uint64_t generation[kMaxWatchSlots] = {};
};

MergedTraps merged_with(ThreadState& t, const void* ucontext, unsigned slot, bool async) {
  MergedTraps merged;
  // Only a register whose bytes lie within one access's reach of the delivered
  // one's can have fired with it: usually none, and then nothing is decoded.
  const ArmedBreakpoint& delivered = t.breakpoints[slot].armed_range();
  uint32_t others = 0;
  for (int i = 0; i < kMaxWatchSlots; ++i) {
    const BreakpointSlot& bp = t.breakpoints[i];
    if (static_cast<unsigned>(i) != slot && bp.armed() && breakpoint_may_share_hit(delivered, bp.armed_range()))
      others |= 1u << i;
  }
  if (others == 0) return merged;
  // The instruction that made the access ends at the pc of a trap delivered at once.
  MemoryAccess access;
  bool known = false;
  if (!async) {
    const CpuRegisters regs = registers_from_ucontext(ucontext);
    const size_t before = copy_code_before(regs.rip, t.code);
    known = before != 0 && decode_access_ending_at(regs, t.code, before, delivered.address, delivered.length,
                                                   &access) == DecodeStatus::kAccess;
  }
  for (int i = 0; i < kMaxWatchSlots; ++i) {
    if ((others & (1u << i)) == 0) continue;
    const BreakpointSlot& bp = t.breakpoints[i];
    if (!known || breakpoint_fires_on(bp.armed_range(), access)) {
      (known ? merged.fired : merged.maybe) |= 1u << i;
      merged.generation[i] = bp.armed_generation();
    }
  }
  return merged;
}

// A trap the handler has no stack left to act on: one-shot all the same.
void drop_trap(ThreadState& t, unsigned slot, uint64_t generation) {
  t.breakpoints[slot].disarm();
  t.done_generation[slot] = generation;
  drop_sync_word_phase(t, slot);  // a release it cannot record: nothing may wait for it
}

}  // namespace

void on_breakpoint_signal(ThreadState& t, void* ucontext, unsigned slot, uint64_t generation, bool async,
                          bool room) {
  if (slot >= static_cast<unsigned>(kMaxWatchSlots)) return;
  // Found before the delivered trap is handled: that may re-point its register.
  const MergedTraps merged = merged_with(t, ucontext, slot, async || !room);
  if (room) on_watchpoint_trap(t, ucontext, slot, generation, async);
  else drop_trap(t, slot, generation);
  if ((merged.fired | merged.maybe) == 0) return;
  Runtime& rt = runtime();
  for (unsigned i = 0; i < static_cast<unsigned>(kMaxWatchSlots); ++i) {
    const uint32_t bit = 1u << i;
    if (((merged.fired | merged.maybe) & bit) == 0) continue;
    rt.stats.traps_merged.fetch_add(1, std::memory_order_relaxed);
    if (room) on_watchpoint_trap(t, ucontext, i, merged.generation[i], async || (merged.maybe & bit) != 0);
    else drop_trap(t, i, merged.generation[i]);
  }
}

void on_tick_signal(ThreadState& t, void* ucontext) {
  uint32_t waiting = 0;  // registers on a word for this thread's own release (write-only)
  for (int i = 0; i < kMaxWatchSlots; ++i) {
    const BreakpointSlot& bp = t.breakpoints[i];
    if (t.sync_generation[i] != 0 && bp.armed() && bp.armed_generation() == t.sync_generation[i] &&
        bp.armed_range().type == BreakpointType::kWrite)
      waiting |= 1u << i;
  }
  if (waiting == 0) return;
  const CpuRegisters regs = registers_from_ucontext(ucontext);
  const size_t before = copy_code_before(regs.rip, t.code);
  if (before == 0) return;
  for (unsigned i = 0; i < static_cast<unsigned>(kMaxWatchSlots); ++i) {
    if ((waiting & (1u << i)) == 0) continue;
    const BreakpointSlot& bp = t.breakpoints[i];
    MemoryAccess access;
    if (decode_access_ending_at(regs, t.code, before, bp.armed_range().address, bp.armed_range().length,
                                &access) != DecodeStatus::kAccess ||
        !breakpoint_fires_on(bp.armed_range(), access))
      continue;
    runtime().stats.traps_merged.fetch_add(1, std::memory_order_relaxed);
    on_watchpoint_trap(t, ucontext, i, bp.armed_generation(), /*async=*/false);
  }
}

}  // namespace racetrap
