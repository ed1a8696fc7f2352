// watchpoint_trap.cc — a debug register of this thread fired on another thread's
// watch. signal-safe: decode the access that just happened, judge it, and append
// a race record with one write(2).
#include "watchpoint_trap.h"

#include "benign_races.h"
#include "decoder.h"
#include "pc_diversity.h"
#include "race_check.h"
#include "sampler.h"
#include "safe_format.h"
#include "signal_context.h"
#include "stack_capture.h"
#include "thread_state.h"

namespace racetrap {
namespace {

constexpr size_t kMaxInstructionLength = 15;
constexpr uint64_t kPageSize = 4096;

void fill_access(AccessRecord& out, const MemoryAccess& a, uint32_t uid, uint32_t tid) {
  out.pc = a.pc;
  out.address = a.address;
  out.size = a.size;
  out.kind = static_cast<uint8_t>(a.kind);
  out.atomic = a.atomic ? 1 : 0;
  out.reserved = 0;
  out.thread_uid = uid;
  out.os_tid = tid;
}

// Appends the thread record of `slot` once, if it still describes thread `uid`.
void log_thread_once(Runtime& rt, uint32_t slot, uint32_t uid) {
  if (slot >= kMaxThreadSlots || rt.thread_records[slot].uid != uid) return;
  if (rt.thread_record_logged[slot].exchange(uid + 1, std::memory_order_acq_rel) == uid + 1) return;
  rt.raw_log.append_thread(rt.thread_records[slot]);
}

// The bytes of code that end right before `pc` (at most 15), without faulting.
size_t copy_code_before(uint64_t pc, uint8_t* out) {
  size_t want = kMaxInstructionLength;
  if (copy_from_memory(pc - want, out, want) == want) return want;
  want = pc - (pc & ~(kPageSize - 1));  // the previous page is unmapped: stay in this one
  if (want == 0 || want > kMaxInstructionLength) return 0;
  return copy_from_memory(pc - want, out, want) == want ? want : 0;
}

// The access that made the register fire: normally the instruction that ends at
// rip (data breakpoints trap after the access); for a repeated string instruction
// with iterations left, rip still points at it, so it is tried second.
bool decode_trapping_access(const CpuRegisters& regs, ThreadState& t, const Watch& w, MemoryAccess* out) {
  const size_t before = copy_code_before(regs.rip, t.code);
  if (before != 0 && decode_access_ending_at(regs, t.code, before, w.access.address, w.access.size, out) ==
                         DecodeStatus::kAccess)
    return true;
  const size_t at = copy_from_memory(regs.rip, t.code, kMaxInstructionLength);
  if (at == 0 || decode_access_at(regs, t.code, at, /*lookahead=*/0, out) != DecodeStatus::kAccess) return false;
  out->address = w.access.address;  // its registers have moved on to the next element
  return true;
}

}  // namespace

void on_watchpoint_trap(ThreadState& t, void* ucontext, unsigned slot, uint64_t generation, bool async) {
  Runtime& rt = runtime();
  if (slot >= static_cast<unsigned>(kMaxWatchSlots)) return;
  rt.stats.traps.fetch_add(1, std::memory_order_relaxed);
  if (rt.flags.verbosity >= 3) {
    LineBuffer line;
    line.text("racetrap: T").dec(t.uid).text(" trap slot=").dec(slot).text(" gen=").dec(generation)
        .text(async ? " async" : "").text(t.in_runtime ? " in-runtime" : "");
    line.write_line(2);
  }
  // One-shot: this thread is done with this watch whatever the verdict.
  t.breakpoints[slot].disarm();
  t.done_generation[slot] = generation;
  if (async || t.in_runtime != 0) return;
  // Inside racetrap from here: pthread calls made by libunwind while it captures the
  // stack must not go through the interposers (they would re-enter it).
  enter_runtime(&t);
  struct Leave {
    ThreadState& t;
    ~Leave() { leave_runtime(&t); }
  } leave{t};

  Watch& w = t.scratch_watch;
  if (rt.board.read(static_cast<int>(slot), &w, /*with_stack=*/true) != generation) {
    rt.stats.traps_stale.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const CpuRegisters regs = registers_from_ucontext(ucontext);
  MemoryAccess access;
  const bool decoded = decode_trapping_access(regs, t, w, &access);
  // Dynamic annotations: a benign race, or this thread ignores such accesses now.
  const bool trap_writes = decoded ? writes(access.kind) : w.bp_type == BreakpointType::kWrite;
  if (is_benign_race_address(w.access.address, w.access.size) || (t.ignore_writes > 0 && trap_writes) ||
      (t.ignore_reads > 0 && !trap_writes))
    return;
  const TrapVerdict verdict = judge_trap(w, decoded ? &access : nullptr, t.uid, t.clock, rt.flags.report_atomics);
  if (verdict == TrapVerdict::kRace || verdict == TrapVerdict::kOrdered || verdict == TrapVerdict::kAtomic) {
    // Another thread really touched the bytes: the watch (and its PC) was worth it.
    rt.stats.conflicts.fetch_add(1, std::memory_order_relaxed);
    rt.board.note_trap(static_cast<int>(slot), generation);
    sampled_pcs().note_conflict(w.access.pc);
  }
  if (verdict != TrapVerdict::kRace) return;
  if (!decoded) {
    access.pc = regs.rip;
    access.address = w.bp_address;
    access.size = w.bp_size;
    access.kind = w.bp_type == BreakpointType::kWrite ? AccessKind::kWrite : AccessKind::kRead;
    access.atomic = false;
  }
  rt.stats.races.fetch_add(1, std::memory_order_relaxed);
  sampled_pcs().note_race(w.access.pc);
  if (!reported_pairs().insert(w.access.pc, access.pc)) {
    // This PC pair is already in the report: do not record it again, and free the
    // register for other samples.
    rt.stats.races_repeated.fetch_add(1, std::memory_order_relaxed);
    if (rt.flags.verbosity >= 3) {
      LineBuffer line;
      line.text("racetrap: T").dec(t.uid).text(" race repeated pc=").hex(access.pc).text(" with pc=").hex(w.access.pc);
      line.write_line(2);
    }
    rt.board.retire(static_cast<int>(slot), generation);
    return;
  }

  RaceRecord& r = t.scratch_race;
  fill_access(r.current, access, t.uid, t.os_tid);
  capture_stack_from_signal(ucontext, access.pc, &r.current.stack);
  fill_access(r.previous, w.access, w.owner_uid, w.owner_tid);
  r.previous.stack = w.stack;
  r.watch_address = w.bp_address;
  r.watch_size = w.bp_size;
  r.flags = 0;
  r.value_at_sample = w.value;
  r.value_at_trap = 0;
  copy_from_memory(w.bp_address, &r.value_at_trap, w.bp_size);
  log_thread_once(rt, t.slot, t.uid);
  log_thread_once(rt, w.owner_slot, w.owner_uid);
  rt.raw_log.append_race(r);
  rt.board.retire(static_cast<int>(slot), generation);  // make room for new samples
}

}  // namespace racetrap
