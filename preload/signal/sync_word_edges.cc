// sync_word_edges.cc — see sync_word_edges.h. signal-safe throughout.
#include "sync_word_edges.h"

#include <sched.h>

#include "decoder.h"
#include "owner_progress.h"
#include "safe_format.h"
#include "signal_context.h"
#include "thread_state.h"
#include "vdso_clock.h"
#include "watch_decisions.h"

namespace racetrap {
namespace {

constexpr size_t kCodeBefore = kSpinLoopBytes + 16;
constexpr size_t kCodeAfter = 48;

// RACETRAP_REPORT_ATOMICS reports conflicts on atomics: then no word is learned
// and nothing is ordered through one (as before words were learned at all).
bool learning(const Runtime& rt) { return rt.flags.sync_words && !rt.flags.report_atomics; }
bool enabled(const Runtime& rt) { return learning(rt) && rt.mode == DetectionMode::kWatchpoints; }

// The least a conflict waits for the owner's next handler (owner_release).
constexpr uint64_t kOwnerWaitNs = 10 * 1000 * 1000;

// The register of board slot `slot` leaves the word (whatever phase it was in).
void end_phase(ThreadState& t, int slot) {
  end_release_watch(t.slot, slot, t.sync_generation[slot]);
  t.sync_generation[slot] = 0;
}

// Whether the owner of a watch had written its word since its sample (a release)
// before this thread's conflicting access, as far as racetrap can tell.
enum class OwnerRelease { kReleased, kNotReleased, kUnknown };

// The owner's store to the word is seen by other threads at once, but the trap
// that records it reaches the owner's handler later, by as long as the owner waits
// for a CPU (tens of milliseconds on a loaded machine). So a release not recorded
// yet is no evidence: the conflict waits until the owner's handler running now,
// or else the next one it begins, has finished (owner_progress.h: that handler, or
// one before it, was the release's, had there been one). Its register still
// waiting for the word then means the owner had not released it before the
// conflict; a register that left the word without recording a release (a new
// watch in the slot, a trap racetrap could not act on), or an owner that runs no
// handler within the wait (it blocks), leaves it unknown. The wait ends at once when the release is
// recorded, and lasts about one sampling period of the owner's CPU time when it
// is not: only conflicts on watches that carry a word the owner has not released
// yet wait (a race verdict, or the store's trap in flight).
OwnerRelease owner_release(const Runtime& rt, const Watch& w, unsigned slot, uint64_t generation) {
  const auto released = [&] { return rt.sync_words.released_since(w.sync_word, w.owner_slot, w.owner_epoch); };
  if (released()) return OwnerRelease::kReleased;
  const uint64_t seen = handler_sequence(w.owner_slot);
  // An owner outside its handlers whose register is not waiting for the word has
  // no release of this watch to come (the handler that published the watch noted
  // the wait before it finished): nothing to wait for. The loads are ordered: a
  // release the owner recorded before it left the word is seen by the second look.
  if ((seen & 1) == 0 && release_watch(w.owner_slot, static_cast<int>(slot)) != generation)
    return released() ? OwnerRelease::kReleased : OwnerRelease::kUnknown;
  const uint64_t finished = seen + ((seen & 1) != 0 ? 1 : 2);  // a handler begun after `seen` has finished
  const uint64_t wait_ns = rt.sample_period_ns * 4 > kOwnerWaitNs ? rt.sample_period_ns * 4 : kOwnerWaitNs;
  const uint64_t until = monotonic_ns() + wait_ns;
  for (;;) {
    if (handler_sequence(w.owner_slot) >= finished) {
      if (released()) return OwnerRelease::kReleased;
      if (release_watch(w.owner_slot, static_cast<int>(slot)) != generation) return OwnerRelease::kUnknown;
      return OwnerRelease::kNotReleased;
    }
    if (released()) return OwnerRelease::kReleased;
    if (monotonic_ns() >= until) return OwnerRelease::kUnknown;
    raw_sched_yield();  // the owner may be waiting for this core
  }
}

// The sampling ticks this thread spent on its own work: those whose sample landed
// on a learned word (it was waiting in a spin loop) do not count.
uint64_t working_ticks(const ThreadState& t) { return t.ticks - t.waiting_ticks; }

}  // namespace

namespace {

void learn_word(ThreadState& t, const MemoryAccess& a, uint32_t how) {
  Runtime& rt = runtime();
  const bool was_known = rt.sync_words.find(a.address, a.size) >= 0;
  if (rt.sync_words.learn(a.address, a.size, a.pc, how) < 0 || was_known) return;
  rt.stats.sync_words_learned.fetch_add(1, std::memory_order_relaxed);
  if (rt.flags.verbosity >= 2) {
    LineBuffer line;
    line.text("racetrap: T").dec(t.uid).text(" learned sync word addr=").hex(a.address).text(" size=").dec(a.size)
        .text(how == kLearnedAtomic ? " (lock word)" : how == kLearnedSpinWait ? " (spin-wait load)" : " (counter)")
        .text(" pc=").hex(a.pc).text(" tick=").dec(t.ticks);
    line.write_line(2);
  }
}

}  // namespace

void learn_sync_word(ThreadState& t, const MemoryAccess& a, uint64_t interrupted_pc) {
  Runtime& rt = runtime();
  if (!learning(rt) || a.branch) return;
  const AccessContext c = access_context(t, rt, nullptr);
  if (!could_be_shared(a, c) || a.size == 0 || a.size > 8) return;
  uint32_t how = 0;
  if (a.atomic) {
    uint8_t* const code = t.code;
    const size_t len = copy_code_near(interrupted_pc, a.pc, code, 15);
    how = len != 0 && is_lock_word_insn(code, len) ? kLearnedAtomic : kLearnedCounter;
  } else if (a.kind == AccessKind::kRead) {
    // The loop around the load: its bytes from kCodeBefore before it.
    uint8_t* const code = t.code;
    static_assert(sizeof t.code >= kCodeBefore + kCodeAfter);
    const uint64_t from = a.pc - kCodeBefore;
    const size_t len = copy_code_near(interrupted_pc, from, code, kCodeBefore + kCodeAfter);
    if (len <= kCodeBefore || !is_spin_wait_load(a.pc, code, len, from)) return;
    how = kLearnedSpinWait;
  } else {
    return;
  }
  learn_word(t, a, how);
}

void learn_sync_word_at_trap(ThreadState& t, const MemoryAccess& access, uint64_t interrupted_pc) {
  learn_sync_word(t, access, interrupted_pc);
}

namespace {

// The code around `pc`, copied into the thread's state (not onto the handler's
// stack: the program's sigaltstack may be small): the bytes before pc and from pc
// on, each half read on its own (a page of either may be unmapped); only from pc on
// when the bytes before it cannot be read. len 0 when none at pc can.
struct CodeWindow {
  const uint8_t* start = nullptr;
  size_t len = 0;
  uint64_t code_pc = 0;  // the address of start[0]
};
CodeWindow copy_code_around(ThreadState& t, uint64_t pc) {
  constexpr size_t kHalf = sizeof t.code_scan / 2;
  uint8_t* const code = t.code_scan;
  CodeWindow w;
  size_t before = copy_from_memory(pc - kHalf, code, kHalf);
  w.code_pc = pc - kHalf;
  w.start = code;
  if (before != kHalf) {
    before = 0;
    w.code_pc = pc;
    w.start = code + kHalf;
  }
  const size_t after = copy_from_memory(pc, code + kHalf, kHalf);
  w.len = after == 0 ? 0 : before + after;
  return w;
}

}  // namespace

namespace {

// The words a scan of the code found (sync_words_near, sync_words_ahead), learned
// where they could be shared.
void learn_found_words(ThreadState& t, Runtime& rt, const StaticAtomicWord* words, int n) {
  for (int i = 0; i < n; ++i) {
    MemoryAccess a;
    a.pc = words[i].pc;
    a.address = words[i].address;
    a.size = words[i].size;
    a.kind = words[i].spin_wait ? AccessKind::kRead : AccessKind::kReadWrite;
    if (could_be_shared(a, access_context(t, rt, nullptr)) && a.size != 0 && a.size <= 8)
      learn_word(t, a, words[i].spin_wait ? kLearnedSpinWait : kLearnedAtomic);
  }
}

}  // namespace

void learn_sync_words_in_code(ThreadState& t, uint64_t pc) {
  Runtime& rt = runtime();
  if (!learning(rt)) return;
  const CodeWindow code = copy_code_around(t, pc);
  if (code.len == 0) return;
  StaticAtomicWord words[4];
  learn_found_words(t, rt, words, sync_words_near(pc, code.start, code.len, code.code_pc, words, 4));
}

void learn_sync_words_ahead(ThreadState& t, const CpuRegisters& regs) {
  Runtime& rt = runtime();
  if (!learning(rt)) return;
  const CodeWindow code = copy_code_around(t, regs.rip);
  if (code.len == 0) return;
  StaticAtomicWord words[1];
  learn_found_words(t, rt, words, sync_words_ahead(regs, code.start, code.len, code.code_pc, words, 1));
}

bool nearer_store_ahead(ThreadState& t, const CpuRegisters& regs, const Watch& w) {
  Runtime& rt = runtime();
  if (w.sync_word < 0 || !enabled(rt)) return false;
  const uint64_t word = rt.sync_words.address(w.sync_word);
  const uint32_t word_size = rt.sync_words.size(w.sync_word);
  if (word == 0) return false;
  // The code around the trap: a loop's head may lie before the pc.
  const CodeWindow code = copy_code_around(t, regs.rip);
  if (code.len == 0) return false;
  PointerStore stores[4];
  const int n = pointer_stores_ahead(regs, regs.rip, code.start, code.len, code.code_pc, stores, 4);
  const auto overlaps = [](uint64_t a, uint64_t a_len, uint64_t b, uint64_t b_len) {
    return a < b + b_len && b < a + a_len;
  };
  for (int i = 0; i < n; ++i) {
    const PointerStore& s = stores[i];
    if (overlaps(s.address, s.size, w.access.address, w.access.size) ||
        overlaps(s.address, s.size, w.bp_address, w.bp_size) || overlaps(s.address, s.size, word, word_size))
      continue;
    if (SyncWords::nearer(s.address, word, w.access.address)) return true;
  }
  return false;
}

void associate_sync_word(Watch& w) {
  w.sync_word = -1;
  Runtime& rt = runtime();
  if (!enabled(rt) || rt.sync_words.empty()) return;
  const int i = rt.sync_words.associate(w.access.pc, w.access.address);
  if (i < 0) return;
  MemoryAccess word;
  word.address = rt.sync_words.address(i);
  word.size = rt.sync_words.size(i);
  if (word.address == 0) return;
  breakpoint_range_for(word, &w.sync_bp_address, &w.sync_bp_size);
  w.sync_word = i;
}

bool sync_word_orders_trap(ThreadState& t, unsigned slot, uint64_t generation, const Watch& w) {
  if (slot >= static_cast<unsigned>(kMaxWatchSlots) || t.sync_after_wait[slot] != generation || w.sync_word < 0)
    return false;
  Runtime& rt = runtime();
  const OwnerRelease r = owner_release(rt, w, slot, generation);
  switch (r) {
    case OwnerRelease::kNotReleased:
      return false;
    case OwnerRelease::kReleased:
      rt.sync_words.acquire(w.sync_word, t.clock);
      rt.stats.sync_ordered.fetch_add(1, std::memory_order_relaxed);
      return true;
    case OwnerRelease::kUnknown:
      break;
  }
  rt.stats.sync_unordered.fetch_add(1, std::memory_order_relaxed);
  return true;  // the word may have ordered it: no verdict (the caller's trap ended the watch here)
}

bool released_after_early_arm(ThreadState& t, unsigned slot, uint64_t generation, const Watch& w) {
  if (slot >= static_cast<unsigned>(kMaxWatchSlots) || t.sync_early[slot] != generation || w.sync_word < 0)
    return false;
  Runtime& rt = runtime();
  const OwnerRelease released = owner_release(rt, w, slot, generation);
  if (released == OwnerRelease::kNotReleased) return false;
  t.sync_early[slot] = 0;
  if (released == OwnerRelease::kUnknown) {
    // Whether the word ordered the pair cannot be told: no verdict, and this
    // thread is done with the watch (its trap already said so).
    rt.stats.sync_unordered.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  // Whether this thread acquired the word since the owner's release is unknown:
  // start the word's phase at the next sync of the registers instead.
  t.done_generation[slot] = 0;
  t.board_version_seen = 0;
  return true;
}

void drop_sync_word_phase(ThreadState& t, unsigned slot) {
  if (slot < static_cast<unsigned>(kMaxWatchSlots)) end_phase(t, static_cast<int>(slot));
}

bool learned_after_publication(const Watch& w) {
  if (w.sync_word >= 0) return false;
  Runtime& rt = runtime();
  return enabled(rt) && !rt.sync_words.empty() && rt.sync_words.associate(w.access.pc, w.access.address) >= 0;
}

void watch_own_release(ThreadState& t, int slot, uint64_t generation, const Watch& w) {
  if (w.sync_word < 0 || slot < 0 || slot >= kMaxWatchSlots) return;
  BreakpointSlot& bp = t.breakpoints[slot];
  if (bp.arm(w.sync_bp_address, w.sync_bp_size, BreakpointType::kWrite, generation)) {
    t.sync_generation[slot] = generation;
    note_release_watch(t.slot, slot, generation);  // other threads may wait on it (owner_release)
  } else {
    end_phase(t, slot);
  }
}

bool keep_on_sync_word(ThreadState& t, int slot, uint64_t generation, const Watch& w, bool want_arm) {
  BreakpointSlot& bp = t.breakpoints[slot];
  if (t.sync_generation[slot] != 0) {
    if (t.sync_generation[slot] == generation) {
      if (w.owner_uid == t.uid) return true;  // waits for the owner's release write
      // Another thread's watch: a whole sampling period without an access of the
      // word. Ticks spent waiting on a learned word (another flag of a ring, a lock
      // held by a preempted thread) are not that.
      if (working_ticks(t) <= t.sync_armed_tick[slot] + 1 && want_arm) return true;
      // The owner released the word before this phase began, so the word may order
      // any later access of the watch's bytes by this thread: its own access of the
      // word that would say so (a ring's flag touched once a round, a lock taken
      // after a long stretch of other work) could come after the register left
      // the word and go unseen. The watch is done here: its bytes are not armed.
      runtime().stats.sync_unordered.fetch_add(1, std::memory_order_relaxed);
      t.sync_settled[slot] = generation;
      t.done_generation[slot] = generation;
      end_phase(t, slot);
      bp.disarm();
      return true;
    }
    end_phase(t, slot);
    bp.disarm();  // the caller re-arms it on the watch's bytes, or leaves it
  }
  if (!want_arm || w.sync_word < 0 || t.sync_settled[slot] == generation || w.owner_uid == t.uid) return false;
  Runtime& rt = runtime();
  if (!enabled(rt)) return false;
  // Until the owner releases the word after its sample, the word cannot order the
  // watched access before anything: the bytes are watched at once (an access of
  // them before this thread's next access of the word, such as a result read
  // before the completion counter says it is ready, is judged by the clocks).
  if (!rt.sync_words.released_since(w.sync_word, w.owner_slot, w.owner_epoch)) {
    t.sync_early[slot] = generation;
    return false;
  }
  if (!bp.arm(w.sync_bp_address, w.sync_bp_size, BreakpointType::kReadWrite, generation)) return false;
  t.sync_generation[slot] = generation;
  t.sync_armed_tick[slot] = working_ticks(t);
  return true;
}

bool on_sync_word_trap(ThreadState& t, unsigned slot, uint64_t generation, bool async) {
  if (slot >= static_cast<unsigned>(kMaxWatchSlots) || t.sync_generation[slot] == 0 ||
      t.sync_generation[slot] != generation)
    return false;
  Runtime& rt = runtime();
  BreakpointSlot& bp = t.breakpoints[slot];
  bp.disarm();
  if (async || t.in_runtime != 0) {
    // Not a program access racetrap can act on: the next sync of the registers
    // points it at the word again.
    end_phase(t, static_cast<int>(slot));
    t.board_version_seen = 0;
    return true;
  }
  RuntimeScope inside(t);
  Watch& w = t.scratch_watch;
  if (rt.board.read(static_cast<int>(slot), &w, /*with_stack=*/false) != generation || w.sync_word < 0 ||
      rt.sync_words.address(w.sync_word) == 0) {
    end_phase(t, static_cast<int>(slot));
    t.board_version_seen = 0;
    return true;
  }
  SyncWords& words = rt.sync_words;
  if (w.owner_uid == t.uid) {
    // The owner's first write of the word since its sample: a release.
    words.release(w.sync_word, t.clock);
    t.clock.tick(t.slot);
    rt.stats.sync_releases.fetch_add(1, std::memory_order_relaxed);
    end_phase(t, static_cast<int>(slot));
    return true;
  }
  // This thread's access of the word: an acquire of whatever was released there.
  words.acquire(w.sync_word, t.clock);
  if (t.clock.get(w.owner_slot) >= w.owner_epoch) {
    rt.stats.sync_ordered.fetch_add(1, std::memory_order_relaxed);
    end_phase(t, static_cast<int>(slot));
    t.done_generation[slot] = generation;  // ordered: never armed again here
    return true;
  }
  // The owner has not released the word since its sample: this thread waits for
  // it (a spin read, a failed XCHG) or reads a flag the owner set before writing
  // (a race). Watch the data now; a conflict there is a race only while the owner
  // still has not released the word (sync_word_orders_trap).
  end_phase(t, static_cast<int>(slot));
  t.sync_settled[slot] = generation;
  t.sync_after_wait[slot] = generation;
  if (should_arm(w, generation, t.uid, t.clock, t.done_generation[slot]) &&
      bp.arm(w.bp_address, w.bp_size, w.bp_type, generation)) {
    rt.stats.arms.fetch_add(1, std::memory_order_relaxed);
    rt.board.note_armed(static_cast<int>(slot), generation, monotonic_ns());
  }
  return true;
}

}  // namespace racetrap
