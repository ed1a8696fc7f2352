// watchpoint_trap.cc — a debug register of this thread fired on another thread's
// watch. signal-safe: decode the access that just happened, judge it, and append
// a race record with one write(2): both stacks, both values, and the locks each
// thread held (the sampler's snapshot from the watch, this thread's own now).
//
// A race of a PC pair already recorded is not recorded again (nor re-armed: its
// slot is retired at once, and the PC yields in the sampler's diversity policy);
// it is counted per pair in the fixed RacePairSet table (pc_tables.h). The
// running total goes to the stream as a RaceSeenRecord when it reaches 1, 2, 4,
// ..., 64 and then every 64th repeat (a crash or SIGKILL loses at most the last
// 63 repeats of a pair), and every total not yet written goes out when the stream
// is sealed at exit or exec (RawLogWriter's before-seal hook).
//
// A trap taken inside racetrap's own code (in_runtime > 0: e.g. libc's lock word
// touched inside a mutex interposer) is dropped: that access is not the program's.
#include "watchpoint_trap.h"

#include "benign_races.h"
#include "decoder.h"
#include "held_races.h"
#include "held_lock_snapshot.h"
#include "pc_diversity.h"
#include "pc_tables.h"
#include "race_check.h"
#include "safe_format.h"
#include "signal_context.h"
#include "stack_capture.h"
#include "thread_record_log.h"
#include "sync_word_edges.h"
#include "thread_state.h"

namespace racetrap {
namespace {

constexpr size_t kMaxInstructionLength = 15;

// The access that made the register fire: normally the instruction that ends at
// rip (data breakpoints trap after the access); for a repeated string instruction
// with iterations left, rip still points at it, so it is tried second.
bool decode_trapping_access(const CpuRegisters& regs, ThreadState& t, const Watch& w, MemoryAccess* out) {
  const size_t before = copy_code_before(regs.rip, t.code);
  if (before != 0 && decode_access_ending_at(regs, t.code, before, w.access.address, w.access.size, out) ==
                         DecodeStatus::kAccess)
    return true;
  const size_t at = copy_code_near(regs.rip, regs.rip, t.code, kMaxInstructionLength);
  if (at == 0 || decode_access_at(regs, t.code, at, /*lookahead=*/0, out) != DecodeStatus::kAccess) return false;
  out->address = w.access.address;  // its registers have moved on to the next element
  return true;
}

// Appends the running repeat total of one PC pair. signal-safe.
void write_repeats(void*, const RepeatedPair& pair) {
  RaceSeenRecord record{pair.first_pc, pair.second_pc, pair.repeats};
  runtime().raw_log.append_race_seen(record);
}

// Before the stream is sealed (exit, exec): the first verdicts still in doubt
// are withdrawn (held_races.h), and every repeat total not yet written
// is written. Runs in ordinary context. signal-safe all the same (atomics and
// write(2)).
void flush_all_repeats() {
  settle_first_verdicts();
  reported_pairs().for_each_unflushed(&write_repeats, nullptr);
}

}  // namespace

// signal-safe.
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

bool first_report_of_pair(uint64_t sampled_pc, uint64_t other_pc) {
  if (reported_pairs().insert(sampled_pc, other_pc)) return true;
  Runtime& rt = runtime();
  rt.stats.races_repeated.fetch_add(1, std::memory_order_relaxed);
  const RepeatedPair seen = reported_pairs().note_repeat(sampled_pc, other_pc);
  if (seen.repeats != 0) {
    rt.raw_log.set_before_seal(&flush_all_repeats);
    if (RacePairSet::flush_now(seen.repeats)) write_repeats(nullptr, seen);
  }
  return false;
}

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
  if (on_sync_word_trap(t, slot, generation, async)) return;  // the register was on a sync word
  // One-shot: this thread is done with this watch whatever the verdict.
  t.breakpoints[slot].disarm();
  t.done_generation[slot] = generation;
  if (async || t.in_runtime != 0) return;
  // Inside racetrap from here: pthread calls made by libunwind while it captures the
  // stack must not go through the interposers (they would re-enter it).
  RuntimeScope inside(t);

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
  const AccessContext context = access_context(t, rt, &is_benign_race_address);
  if (annotations_silence(w.access.address, w.access.size, trap_writes, context)) return;
  // The watched bytes turned out to be a hand-written synchronization word.
  if (sync_word_exempt(w.access.address, w.access.size, context)) return;
  // An atomic access on the watched bytes: they are a synchronization word.
  if (decoded && access.atomic) learn_sync_word_at_trap(t, access, regs.rip);
  const TrapVerdict verdict = judge_trap(w, decoded ? &access : nullptr, t.uid, t.clock, rt.flags.report_atomics);
  if (verdict == TrapVerdict::kRace || verdict == TrapVerdict::kOrdered || verdict == TrapVerdict::kAtomic) {
    // Another thread really touched the bytes: the watch (and its PC) was worth it.
    rt.stats.conflicts.fetch_add(1, std::memory_order_relaxed);
    rt.board.note_trap(static_cast<int>(slot), generation);
    sampled_pcs().note_conflict(w.access.pc);
    sampled_lines().note_conflict(code_line(w.access.pc));
  }
  if (verdict != TrapVerdict::kRace) return;
  if (nearer_store_ahead(t, regs, w)) {  // the watch's word was the wrong guess: no verdict
    rt.stats.sync_unordered.fetch_add(1, std::memory_order_relaxed);
    rt.board.retire(static_cast<int>(slot), generation);
    return;
  }
  if (released_after_early_arm(t, slot, generation, w)) return;  // the word may order it: watch the word first
  if (sync_word_orders_trap(t, slot, generation, w)) return;  // ordered by a learned word
  if (w.sync_word < 0 && rt.flags.sync_words) {
    learn_sync_words_in_code(t, regs.rip);
    learn_sync_words_ahead(t, regs);
    for (uint32_t f = 0; f < w.stack.frame_count && f < 3; ++f) learn_sync_words_in_code(t, w.stack.frames[f]);
  }
  // Published before racetrap learned the synchronization word near it: whether
  // the program's own synchronization ordered the two accesses is unknown, and
  // the next sample there is judged with the word (sync_word_edges.h).
  if (learned_after_publication(w)) {
    rt.stats.sync_unordered.fetch_add(1, std::memory_order_relaxed);
    rt.board.retire(static_cast<int>(slot), generation);
    return;
  }
  if (!decoded) {
    access.pc = regs.rip;
    access.address = w.bp_address;
    access.size = w.bp_size;
    access.kind = w.bp_type == BreakpointType::kWrite ? AccessKind::kWrite : AccessKind::kRead;
    access.atomic = false;
  }
  rt.stats.races.fetch_add(1, std::memory_order_relaxed);
  sampled_pcs().note_race(w.access.pc);
  const bool first = first_report_of_pair(w.access.pc, access.pc);
  // Judged a race again: the first verdict, if still in doubt, may stand now.
  if (!first) confirm_first_verdict(RepeatedVerdict{w.access.pc, w.access.address, access.pc, w.sync_word});
  if (!first) {
    // This PC pair is already in the report: do not record it again, and free the
    // register for other samples.
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
  snapshot_held_locks(t.held_locks, held_locks_tracked(rt.flags), &r.current_locks);
  r.previous_locks = w.locks;
  log_thread_once(rt, t.slot, t.uid);
  log_thread_once(rt, w.owner_slot, w.owner_uid);
  log_memory_owner_once(rt, w.bp_address);
  rt.raw_log.append_race(r);
  // The program's own spin lock or flag may yet explain the pair: tracked until a
  // repeat settles it, withdrawn at exit if still in doubt (held_races.h).
  if (rt.flags.sync_words && track_first_verdict(r, w.sync_word)) rt.raw_log.set_before_seal(&flush_all_repeats);
  rt.board.retire(static_cast<int>(slot), generation);  // make room for new samples
}

}  // namespace racetrap
