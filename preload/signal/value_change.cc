// value_change.cc — value-change sampling (see value_change.h), as KCSAN's
// "race at unknown origin" and DataCollider's repeated read, without debug
// registers. signal-safe throughout.
//
// Why a change during the stall proves a data race. The stall runs inside the
// sampled thread's SIGTRAP handler, with every signal blocked, at the instruction
// boundary where the tick interrupted it: between the first read and the read that
// sees the change, the sampled thread runs no instruction of the program, so it
// makes no synchronization call and touches no atomic. The bytes changed in that
// window, so another thread wrote them in it (the memory is private, writable and
// not the kernel's: checked below). That write cannot happen-before the sampled
// access: a release after the write would have to be acquired by the sampled
// thread before its access, and the sampled thread does nothing until the access.
// Nor can the sampled access happen-before the write: the write happened while
// the access was still pending, before any release the sampled thread could make
// after it. Neither is ordered, at least one writes, the bytes overlap: a race,
// with no happens-before bookkeeping needed.
//
// The skid case. A timer interrupt is often taken right after a slow memory
// access, so the sampler also picks the access of the instruction that ended at
// the interrupted pc (sampler.cc, pick_access). That access has already run, and
// the sampled thread ran nothing after it: a write in the window still has no
// synchronization of the sampled thread between the two accesses, so the same
// argument holds. It fails only where its premises fail, and those cases are not
// reported: an atomic sampled access (LOCK/XCHG are filtered; plain-MOV std::atomic
// operations are recognised from debug info when the report is rendered), bytes
// another process or the kernel may write (shared mappings, vDSO/vvar, read-only
// memory, any thread's TLS and descriptor, which the kernel writes on thread exit
// and for rseq), this thread's own stack and TLS, and an access decoded at a pc the
// thread reached by a jump (then the instruction before it did not run): the
// decoder walks back only through straight-line code, so that needs a jump target
// right after a memory access, and such a report names an access that was about to
// be made or had just been made in the same straight-line block.
//
// What it cannot see: a change that restores the same value (a write of the value
// already there), and a remote *read* while the sampled thread writes (reads leave
// no trace in the bytes). Both are in the README.
#include "value_change.h"

#include <sched.h>
#include <signal.h>
#include <sys/uio.h>

#include <cstring>

#include "held_lock_snapshot.h"
#include "memory_access.h"
#include "pc_diversity.h"
#include "pc_tables.h"
#include "private_mapping.h"
#include "safe_format.h"
#include "sampler.h"
#include "sync_word_edges.h"
#include "stack_capture.h"
#include "thread_record_log.h"
#include "thread_state.h"
#include "vdso_clock.h"
#include "watchpoint_trap.h"
#include "writer_search.h"

namespace racetrap {
namespace {

// The writer search runs for the first few races of a sampled PC: later ones are
// repeats of a recorded race and only counted.
constexpr uint32_t kSearchesPerPc = 4;
// How long the stalled thread waits (yielding) for the writer: the other threads
// join at their next sampling tick, within one sampling period of their CPU time;
// two periods of wall time, at least 1 ms, leave room for kWriterStepBudget steps.
uint64_t writer_wait_ns(const Runtime& rt) {
  const uint64_t wait = 2 * rt.sample_period_ns;
  return wait < 1000 * 1000 ? 1000 * 1000 : wait;
}

// Reads len (<= 8) bytes of this process without faulting. signal-safe.
bool read_bytes(uint32_t pid, uint64_t address, uint32_t len, uint64_t* out) {
  *out = 0;
  iovec local{out, len};
  iovec remote{reinterpret_cast<void*>(address), len};
  return process_vm_readv(static_cast<pid_t>(pid), &local, 1, &remote, 1, 0) == static_cast<ssize_t>(len);
}

// Whether `address` is in any thread's static TLS block or thread descriptor.
bool in_some_thread_tls(const Runtime& rt, uint64_t address) {
  uint32_t used = rt.thread_slots_used.load(std::memory_order_acquire);
  if (used > kMaxThreadSlots) used = kMaxThreadSlots;
  for (uint32_t slot = 0; slot < used; ++slot) {
    const ThreadRecord& r = rt.thread_records[slot];
    if (r.tls_begin <= address && address < r.tls_end) return true;
  }
  return false;
}

void trace(const ThreadState& t, const MemoryAccess& a, const char* what, uint64_t before, uint64_t after) {
  LineBuffer line;
  line.text("racetrap: T").dec(t.uid).text(" value-change pc=").hex(a.pc).text(" addr=").hex(a.address)
      .text(" ").text(what).text(" ").hex(before).text(" -> ").hex(after);
  line.write_line(2);
}

}  // namespace

void sample_value_change(ThreadState& t, void* ucontext, const MemoryAccess& access, const StackRecord* stack) {
  Runtime& rt = runtime();
  // Only the bytes the instruction touches (its first 8 at most), never a wider
  // aligned block around them.
  const uint64_t address = access.address;
  const uint32_t size = access.size == 0 ? 1 : access.size > 8 ? 8 : access.size;
  uint64_t before = 0;
  if (!read_bytes(rt.pid, address, size, &before)) {
    rt.stats.samples_filtered.fetch_add(1, std::memory_order_relaxed);  // not mapped: it would fault
    return;
  }
  // No handler of this thread (the program's SIGALRM, ...) runs during the stall,
  // so a change must come from another thread: racetrap's handler is installed
  // with every signal blocked (interpose_signal.cc).
  const uint64_t bound = static_cast<uint64_t>(rt.flags.stall_us) * 1000;
  const uint64_t stall = bound / 2 + t.random.next() % (bound / 2 + 1);
  const uint64_t start = monotonic_ns();
  uint64_t after = before;
  bool changed = false;
  uint64_t now = start;
  do {
    // Between two reads the CPU goes to whoever waits for it: on a machine with
    // more runnable threads than CPUs, the program's other threads (the writer)
    // may run only if this one steps aside, and the stall costs no CPU time then.
    // With nothing else to run, it returns at once.
    raw_sched_yield();
    if (!read_bytes(rt.pid, address, size, &after)) break;  // unmapped meanwhile: no verdict
    changed = after != before;
    now = monotonic_ns();
  } while (!changed && now - start < stall);
  rt.stats.stalls.fetch_add(1, std::memory_order_relaxed);
  rt.stats.stall_ns.fetch_add(now - start, std::memory_order_relaxed);
  sampled_pcs().note_published(access.pc);  // a stall is this mode's watch (pc_diversity.h)
  if (!changed) return;
  rt.stats.value_changes.fetch_add(1, std::memory_order_relaxed);
  if (!in_private_writable_memory(address, size) || in_some_thread_tls(rt, address)) {
    rt.stats.value_changes_ignored.fetch_add(1, std::memory_order_relaxed);
    if (rt.flags.verbosity >= 3) trace(t, access, "ignored (not private memory)", before, after);
    return;
  }
  // The code around the access may show that these bytes are a lock or flag word
  // (an XCHG on it, a spin-wait load of it) that no sample has taught yet.
  if (!is_learned_sync_word(address, size)) learn_sync_words_in_code(t, access.pc);
  // A change of a synchronization word or object is the program's own
  // synchronization at work, not a race:
  // - a learned word (sync_words.h: used with LOCK/XCHG, or read by a spin-wait
  //   loop), which a plain-MOV atomic load sampled here cannot be told from
  //   otherwise;
  // - an object racetrap keeps a clock for: an address the program passed to
  //   AnnotateHappensBefore/After (a hand-written flag it annotated) or to a pthread
  //   call; the happens-before edge it carries cannot order a stall, which only sees
  //   that the value moved.
  const char* sync = sync_word_exempt(address, size, access_context(t, rt, nullptr)) ? "ignored (synchronization word)"
                     : rt.sync_clocks.has_entry_for(address) ? "ignored (synchronization object)"
                                                             : nullptr;
  if (sync != nullptr) {
    rt.stats.value_changes_ignored.fetch_add(1, std::memory_order_relaxed);
    if (rt.flags.verbosity >= 3) trace(t, access, sync, before, after);
    return;
  }
  rt.stats.conflicts.fetch_add(1, std::memory_order_relaxed);
  sampled_pcs().note_conflict(access.pc);
  // The writer: searched while this thread still stalls, so what is found is
  // concurrent with the sampled access too (writer_search.h).
  FoundWriter writer;
  bool atomic_writer = false;
  bool found = false;
  if (sampled_pcs().counts(access.pc).races < kSearchesPerPc) {
    rt.stats.writer_searches.fetch_add(1, std::memory_order_relaxed);
    found = find_writer(t, address, size, writer_wait_ns(rt), &writer, &atomic_writer);
    if (found) rt.stats.writers_found.fetch_add(1, std::memory_order_relaxed);
  }
  if (atomic_writer) return;  // the write was atomic: not reported, as in the watchpoint mode
  rt.stats.races.fetch_add(1, std::memory_order_relaxed);
  sampled_pcs().note_race(access.pc);
  if (rt.flags.verbosity >= 3) trace(t, access, found ? "changed (writer found)" : "changed", before, after);
  if (!first_report_of_pair(access.pc, found ? writer.access.pc : 0)) return;

  RaceRecord& r = t.scratch_race;
  std::memset(&r, 0, sizeof r);
  fill_access(r.previous, access, t.uid, t.os_tid);
  if (stack != nullptr) r.previous.stack = *stack;
  else capture_stack_from_signal(ucontext, access.pc, &r.previous.stack);
  snapshot_held_locks(t.held_locks, held_locks_tracked(rt.flags), &r.previous_locks);
  if (found) {
    r.current = writer.access;
    r.current_locks = writer.locks;
  } else {
    r.current.address = address;
    r.current.size = size;
    r.current.kind = static_cast<uint8_t>(AccessKind::kWrite);
    r.current.thread_uid = kUnknownThreadUid;
  }
  r.watch_address = address;
  r.watch_size = size;
  r.flags = kRaceValueChanged | (found ? kRaceWriterFound : 0);
  r.value_at_sample = before;
  r.value_at_trap = after;
  log_thread_once(rt, t.slot, t.uid);
  if (found) log_thread_once(rt, writer.slot, writer.access.thread_uid);
  log_memory_owner_once(rt, address);
  rt.raw_log.append_race(r);
}

}  // namespace racetrap
