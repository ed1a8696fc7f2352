// sampler.cc — the sampling tick. signal-safe: decode, filter, ask the PC-diversity
// policy, capture the stack (and a snapshot of the thread's held locks) only when
// the board will take the sample, publish; no allocation, no locks.
#include "sampler.h"

#include <cstring>

#include "arming.h"
#include "benign_races.h"
#include "decoder.h"
#include "deferred_sample.h"
#include "held_lock_snapshot.h"
#include "own_code.h"
#include "pc_diversity.h"
#include "pc_tables.h"
#include "plain_string_ops.h"
#include "safe_format.h"
#include "signal_context.h"
#include "stack_capture.h"
#include "sync_word_edges.h"
#include "thread_state.h"
#include "value_change.h"
#include "writer_search.h"
#include "watch_decisions.h"

namespace racetrap {
namespace {

constexpr size_t kBefore = 32;
constexpr int kForward = 32;      // instructions decoded forward from the pc, at most (128 bytes hold about that many)
// The same in value-change mode, where every tick pays for the decode (with the
// caches cold after the program ran, about 12-16 us of a tick's 30 us of handler
// CPU in pigz and zstd, 2 ms apart): half the walk, still the next 16
// instructions' accesses, around a small loop's back edge.
constexpr int kForwardValueChange = 16;
constexpr int kCandidates = 12;  // accesses of the block considered, at most
// The forward walk stops at its fourth usable access (not a branch operand, worth
// watching): a full decode costs about 1,500 instructions (0.3-0.5 us in the
// handler), and the walk to twelve accesses decoded about 30 instructions, 4-14 us
// of a tick's handler in pigz, zstd and pbzip2. The nearest usable accesses are
// the ones a tick that lands there can sample; those further on are the nearest
// of the ticks that land closer to them.
constexpr int kForwardUsable = 4;
constexpr uint64_t kPageSize = 4096;
// A postponed tick's sample runs inside the hold its lock call just started (20-40
// us, where the other threads wait for the lock), and in a lock-heavy program half
// the ticks come inside lock calls before their acquire (lock_heavy at 2 threads:
// 720 of 1450 a run; its system time went from 0.96-0.99 s to 1.12-1.22 s in two
// runs each, waiters parked on the futex), and a critical section slowed that
// often is what turns a latent deadlock into a hang. One in eight keeps the
// samples of a thread whose CPU time is nearly all inside contended lock calls
// (racy_wrong_lock: hundreds a run) at an eighth of that cost.
constexpr uint64_t kPostponeOneIn = 8;

// Threads that ran recently: a thread counts as running in a window of two sampling
// periods when it ticked in it. A watch needs arms only from those (a blocked thread
// arms when it wakes, before it can touch anything), so this, not the number of live
// threads, is what early retirement waits for. Two buckets, current and previous
// window; lock-free, a lost update only skews the heuristic.
std::atomic<uint64_t> thread_window[kMaxThreadSlots];
std::atomic<uint64_t> bucket_window[2];
std::atomic<uint32_t> bucket_count[2];

// Notes that thread `slot` ran in the window of `now`; returns how many threads ran
// in this window or the previous one, whichever is more. signal-safe.
uint32_t note_running(uint32_t slot, uint64_t now, uint64_t period_ns) {
  const uint64_t window = now / (2 * (period_ns ? period_ns : 1)) + 1;  // never 0
  const int b = static_cast<int>(window & 1);
  uint64_t seen = bucket_window[b].load(std::memory_order_acquire);
  if (seen != window && bucket_window[b].compare_exchange_strong(seen, window, std::memory_order_acq_rel))
    bucket_count[b].store(0, std::memory_order_release);
  if (slot < kMaxThreadSlots && thread_window[slot].exchange(window, std::memory_order_relaxed) != window)
    bucket_count[b].fetch_add(1, std::memory_order_relaxed);
  uint32_t running = bucket_count[b].load(std::memory_order_relaxed);
  if (bucket_window[b ^ 1].load(std::memory_order_relaxed) == window - 1) {
    const uint32_t previous = bucket_count[b ^ 1].load(std::memory_order_relaxed);
    if (previous > running) running = previous;
  }
  return running;
}

// The value of the sampled access's bytes (the watch's block) into *value; false
// when they cannot be read. The access is the thread's own, just made or about to
// be, so the kernel's check and a plain read serve (copy_word_from_memory), unless
// one of this thread's armed debug registers covers the bytes: a plain read would
// trap (asynchronously, which ends the thread's watch of the slot, and with it the
// verdict its own access is about to give), so those are read by the kernel; so
// is a deferred sample's, whose interrupted code may be re-pointing a register.
bool read_sampled_value(const ThreadState& t, const WatchBoard& board, bool deferred, uint64_t address,
                        uint32_t size, uint64_t* value) {
  bool covered = deferred;
  for (int i = 0; i < kMaxWatchSlots && !covered; ++i) {
    const BreakpointSlot& bp = t.breakpoints[i];
    covered = bp.armed() && board.may_cover(i, bp.armed_generation(), address, size);
  }
  const size_t got = covered ? copy_from_memory(address, value, size) : copy_word_from_memory(address, value, size);
  return got == size;
}

enum class Pick { kNoAccess, kFiltered, kChosen };

// The usable candidate whose site was watched least so far (ties at random); -1
// when none is usable.
int least_watched(ThreadState& t, const MemoryAccess* candidates, int n, const AccessFilter& usable) {
  const PcTable& pcs = sampled_pcs();
  int best = -1;
  uint32_t best_watches = 0, ties = 0;
  for (int i = 0; i < n; ++i) {
    const MemoryAccess& c = candidates[i];
    if (!usable.usable(c, usable.arg)) continue;
    const uint32_t watches = pcs.counts(c.pc).published;
    if (best < 0 || watches < best_watches) {
      best = i;
      best_watches = watches;
      ties = 1;
    } else if (watches == best_watches && t.random.below(++ties) == 0) {
      best = i;  // each of the tied sites is kept with probability 1/ties
    }
  }
  return best;
}

// Which candidates a sample may watch: not a branch's operand, worth_watching.
AccessFilter usable_accesses(const AccessContext* context) {
  return AccessFilter{[](const MemoryAccess& c, const void* arg) {
                        return !c.branch && worth_watching(c, *static_cast<const AccessContext*>(arg));
                      },
                      context};
}

// The access to watch for this sample, chosen among the accesses around the
// interrupted pc whose address the registers give: forward along the path the
// thread will certainly take (decode_path_accesses, at most kForward instructions;
// with the kBefore bytes before rip when they are in its page, so the path may go
// back to a loop's head), and, on a random half of the ticks or when nothing
// forward qualifies, back over the instructions that just ran (at most 8: the
// access a timer interrupt skids past after a slow load or store, and the earlier
// accesses of the block, which its next iteration repeats; the backward walk
// decodes the length at up to 32 offsets and up to 8 instructions in full, so it
// is not made on every tick; in value-change mode the forward walk is
// kForwardValueChange instructions long). The backward walk is needed on ticks
// whose forward path has an access too: in racy_wrong_lock the racy add is the
// slow access a tick skids past, and the path forward from it holds a usable
// load before the unlock call; walking back only when nothing forward qualified
// found that race in 12 of 20 runs against 20 of 20. Where the sample
// lands in the block then does not decide which of its accesses can be watched:
// the one with the fewest watches so far is chosen (ties at random), so over many
// samples each access site of a hot block gets its turn, and the PC-diversity
// admission afterwards applies to that site.
Pick pick_access(ThreadState& t, Runtime& rt, const CpuRegisters& regs, MemoryAccess* out) {
  uint8_t* const before = t.code;                 // kBefore bytes ending at rip
  uint8_t* const at = t.code + kBefore;           // bytes from rip on
  size_t at_len = sizeof t.code - kBefore;
  const uint64_t page_end = (regs.rip & ~(kPageSize - 1)) + kPageSize;
  if (regs.rip + at_len > page_end && execute_only_possible() == 0) {
    // Take what this page has without a syscall; go past it only when that is
    // shorter than one instruction could be.
    at_len = page_end - regs.rip >= 15 ? page_end - regs.rip : at_len;
  }
  at_len = copy_code_near(regs.rip, regs.rip, at, at_len);
  // The bytes before rip come free (no syscall) when they are in rip's page: then
  // the forward path may go back into a loop's head that starts before rip.
  const bool before_free = execute_only_possible() == 0 && (regs.rip & (kPageSize - 1)) >= kBefore;
  if (before_free) copy_code_near(regs.rip, regs.rip - kBefore, before, kBefore);
  const bool value_change = rt.mode == DetectionMode::kValueChange;
  const int forward = value_change ? kForwardValueChange : kForward;
  const int forward_usable = value_change ? 0 : kForwardUsable;  // 0: no such stop
  MemoryAccess candidates[kCandidates];
  const AccessContext context = access_context(t, rt, &is_benign_race_address);
  const AccessFilter usable_filter = usable_accesses(&context);
  int n = before_free ? decode_path_accesses_until(regs, before, kBefore + at_len, regs.rip - kBefore, forward,
                                                   candidates, kCandidates, usable_filter, forward_usable)
                      : decode_path_accesses_until(regs, at, at_len, regs.rip, forward, candidates, kCandidates,
                                                   usable_filter, forward_usable);
  auto usable = [&](const MemoryAccess& c) { return usable_filter.usable(c, &context); };
  bool any_usable = false;
  for (int i = 0; i < n && !any_usable; ++i) any_usable = usable(candidates[i]);
  if ((!any_usable || (t.random.next() & 1)) && n < kCandidates) {
    const size_t before_len = before_free ? kBefore : copy_code_near(regs.rip, regs.rip - kBefore, before, kBefore);
    if (before_len == kBefore)
      n += decode_block_accesses(regs, before, before_len, nullptr, 0, 0, candidates + n, kCandidates - n);
  }
  // Hand-written synchronization is learned from what samples land on
  // (sync_word_edges.h): every atomic candidate, and the first plain load (a
  // spin-wait loop's load is the only access of its block).
  bool read_seen = false;
  for (int i = 0; i < n; ++i) {
    const MemoryAccess& c = candidates[i];
    if (c.atomic || (!read_seen && c.kind == AccessKind::kRead)) learn_sync_word(t, c, regs.rip);
    read_seen = read_seen || c.kind == AccessKind::kRead;
  }
  if (n == 0) return Pick::kNoAccess;
  const int best = least_watched(t, candidates, n, usable_filter);
  if (best < 0) {
    // Nothing to watch and a learned word among the candidates: the thread waits
    // in a spin loop (sync_word_edges.h does not count such ticks as work).
    bool waiting = false;
    for (int i = 0; i < n && !waiting; ++i) waiting = sync_word_exempt(candidates[i].address, candidates[i].size, context);
    if (waiting) ++t.waiting_ticks;
    return Pick::kFiltered;
  }
  *out = candidates[best];
  return Pick::kChosen;
}

void trace_sample(const ThreadState& t, const MemoryAccess& access, const char* outcome) {
  LineBuffer line;
  line.text("racetrap: T").dec(t.uid).text(" sample pc=").hex(access.pc).text(" addr=").hex(access.address)
      .text(" size=").dec(access.size).text(" ").text(access_kind_name(access.kind)).text(" ").text(outcome);
  line.write_line(2);
}

}  // namespace

void on_sample_tick(ThreadState& t, void* ucontext, bool postponed) {
  Runtime& rt = runtime();
  if (!postponed) {
    rt.stats.samples.fetch_add(1, std::memory_order_relaxed);
    ++t.ticks;
  }
  if (rt.flags.verbosity >= 3) {
    LineBuffer line;
    line.text("racetrap: T").dec(t.uid).text(" tick pc=").hex(registers_from_ucontext(ucontext).rip)
        .text(t.in_runtime ? " in-runtime" : "");
    line.write_line(2);
  }
  // A tick inside racetrap's own code samples the program's access right after
  // the call returns (deferred_sample.h); it uses its own watch buffer and does not
  // touch the debug registers, which the interrupted code may be re-arming.
  const bool deferred = t.in_runtime != 0;
  const bool value_change = rt.mode == DetectionMode::kValueChange;
  if (deferred) {
    if (!postponed) rt.stats.samples_in_runtime.fetch_add(1, std::memory_order_relaxed);
    if (t.deferrable != kDeferrable) {  // an acquire is still to come
      // One such tick in kPostponeOneIn waits for the acquire (mark_deferrable,
      // deferred_sample.h); the others are dropped.
      if (t.random.below(kPostponeOneIn) == 0) t.deferrable = kTickPostponed;
      return;
    }
  } else if (value_change && join_writer_search(t, ucontext)) {
    return;  // this thread single-steps for another thread's stalled sample now
  }
  // From here on this thread is inside racetrap: a pthread call made by a library
  // the handler uses (libunwind takes a mutex while it steps) goes straight to libc
  // instead of through the interposers, which would re-enter the unwinder and
  // deadlock on that mutex.
  RuntimeScope inside(t);
  const uint64_t now = monotonic_ns();
  // How many threads run is for a watch's early retirement: no board in value-change mode.
  const uint32_t running = value_change ? 0 : note_running(t.slot, now, rt.sample_period_ns);
  Watch& w = deferred ? t.deferred_watch : t.scratch_watch;
  MemoryAccess access;
  Pick deferred_pick = Pick::kNoAccess;
  if (deferred) {
    // The accesses the program makes right after the call; the one watched least so far.
    MemoryAccess candidates[kCandidates];
    const AccessContext context = access_context(t, rt, &is_benign_race_address);
    const AccessFilter usable = usable_accesses(&context);
    const int n = accesses_after_runtime_call(t, ucontext, usable, kForwardUsable, candidates, kCandidates, &w.stack);
    if (n == 0) {
      rt.stats.samples_no_access.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    rt.stats.samples_deferred.fetch_add(1, std::memory_order_relaxed);
    const int best = least_watched(t, candidates, n, usable);
    deferred_pick = best < 0 ? Pick::kFiltered : Pick::kChosen;
    if (best >= 0) {
      access = candidates[best];
      w.stack.frames[0] = access.pc;
    }
  } else if (!value_change) {
    count_tick_on_board(t);
    sync_debug_registers(t);
  }
  const CpuRegisters regs = registers_from_ucontext(ucontext);
  // A tick in racetrap's own code outside its in-runtime mark: an interposer's
  // first tests (before it marks the thread) or its last instructions (after). What
  // is under the pc there is racetrap's own data (its globals, the thread's state),
  // which no other thread of the program touches: a watch on it never traps and
  // only takes a board slot from the program's accesses. Nor can the program's
  // access after the call stand in for it (a deferred sample): before the mark an
  // acquire may still be to come. Counted with the ticks inside racetrap. The
  // exception: the copies racetrap's memcpy, memmove and memset make for the
  // program while a register is armed (plain_string_ops.h) touch the program's
  // bytes, and are sampled as glibc's copies are.
  if (!deferred && called_from_racetrap(regs.rip) && !in_plain_string_ops(regs.rip)) {
    rt.stats.samples_in_runtime.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // A tick on a line of code whose watches keep finding nothing stops here, before
  // the decode (pc_diversity.h, admit_tick): the tick's duties above (aging the
  // board's watches, this thread's registers) are done. Value-change mode has its
  // own per-PC admission of stalls.
  if (!deferred && !value_change && !admit_tick(sampled_lines().counts(code_line(regs.rip)), t.random)) {
    rt.stats.samples_thinned.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const Pick pick = deferred ? deferred_pick : pick_access(t, rt, regs, &access);
  if (pick == Pick::kNoAccess) {
    rt.stats.samples_no_access.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (pick == Pick::kFiltered) {
    rt.stats.samples_filtered.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // Diversity: a PC watched (or, in value-change mode, stalled on) often without a
  // conflict yields to PCs not yet watched. A stall costs about what a tick does
  // and finds a change only while the writer runs at the same time, so a PC whose
  // stalls see changes keeps its samples; a hot PC whose stalls never do stops
  // costing a stall at most samples.
  if (!admit_sample(sampled_pcs().counts(access.pc), t.random)) {
    rt.stats.samples_yielded.fetch_add(1, std::memory_order_relaxed);
    if (rt.flags.verbosity >= 3) trace_sample(t, access, "yielded");
    return;
  }
  if (value_change) {
    sample_value_change(t, ucontext, access, deferred ? &w.stack : nullptr);
    return;
  }
  bool quiet = false;
  const int chosen = rt.board.choose_slot(now, t.random, &quiet);
  if (chosen < 0) {
    rt.stats.samples_not_chosen.fetch_add(1, std::memory_order_relaxed);
    if (rt.flags.verbosity >= 3) trace_sample(t, access, "not chosen");
    return;
  }
  build_watch(access, WatchOwner{t.uid, t.slot, t.os_tid, &t.clock}, now, &w);
  // A deferred sample leaves the debug registers alone: its owner could not
  // watch the word for its release.
  if (deferred) w.sync_word = -1;
  else associate_sync_word(w);
  w.value = 0;
  if (!read_sampled_value(t, rt.board, deferred, w.bp_address, w.bp_size, &w.value)) {
    rt.stats.samples_filtered.fetch_add(1, std::memory_order_relaxed);  // not mapped: it would fault
    return;
  }
  w.expected_arms = running > 1 ? running - 1 : 0;  // 0: nobody else runs, never retired early
  // The locks this thread holds at the access, for the report (this handler may
  // have interrupted an update of them: held_lock_snapshot.h tolerates that). A
  // deferred sample is taken only after the interposer's last acquire, and the lock
  // interposers record the lock they took before that acquire, so it is listed.
  snapshot_held_locks(t.held_locks, held_locks_tracked(rt.flags), &w.locks);
  if (!deferred) capture_stack_from_signal(ucontext, access.pc, &w.stack);
  const bool written = rt.board.write_slot(chosen, w, now);
  if (written) {
    if (w.sync_word >= 0) watch_own_release(t, chosen, rt.board.generation(chosen), w);
    rt.stats.watches_published.fetch_add(1, std::memory_order_relaxed);
    if (quiet) rt.stats.watches_retired_quiet.fetch_add(1, std::memory_order_relaxed);
    sampled_pcs().note_published(access.pc);
    if (!deferred) sampled_lines().note_published(code_line(access.pc));
  }
  if (rt.flags.verbosity >= 3) trace_sample(t, access, written ? "published" : "not chosen");
}

}  // namespace racetrap
