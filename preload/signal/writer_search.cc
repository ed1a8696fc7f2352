// writer_search.cc — see writer_search.h. signal-safe throughout.
#include "writer_search.h"

#include <sched.h>
#include <ucontext.h>

#include <atomic>
#include <cstring>

#include "decoder.h"
#include "held_lock_snapshot.h"
#include "signal_context.h"
#include "stack_capture.h"
#include "thread_state.h"
#include "vdso_clock.h"

namespace racetrap {
namespace {

constexpr uint64_t kTrapFlag = 0x100;     // EFLAGS.TF
constexpr uint64_t kClaimedWaitNs = 200 * 1000;  // a claimer needs one more step

enum ProbeState : uint32_t { kClosed = 0, kOpen = 1, kClaimed = 2, kDone = 3 };

struct Probe {
  std::atomic<uint32_t> busy{0};  // a stalled thread owns the probe
  std::atomic<uint64_t> generation{0};
  std::atomic<uint64_t> address{0};
  std::atomic<uint32_t> size{0};
  std::atomic<uint32_t> state{kClosed};
  std::atomic<uint32_t> owner_slot{0};  // the stalled thread's slot
  FoundWriter writer{};  // written by the claimer between kClaimed and kDone
};
Probe the_probe;  // constant-initialized

void set_trap_flag(void* ucontext, bool on) {
  greg_t& flags = static_cast<ucontext_t*>(ucontext)->uc_mcontext.gregs[REG_EFL];
  flags = on ? (flags | static_cast<greg_t>(kTrapFlag)) : (flags & ~static_cast<greg_t>(kTrapFlag));
}

void stop_stepping(ThreadState& t, void* ucontext) {
  t.step_budget = 0;
  t.step_confirm = 0;
  set_trap_flag(ucontext, false);
}

// Instructions that must not run with racetrap's TF set: PUSHF would store it
// where the program can see (and a later POPF would restore it), POPF replaces it,
// SYSCALL copies it into r11, INT/INT3/INTO and SYSENTER enter the kernel or the
// program's own SIGTRAP. Checked on the raw bytes after the legacy and REX prefixes.
bool unsafe_to_step(const uint8_t* code, size_t len) {
  size_t i = 0;
  while (i < len && i < 14) {
    const uint8_t b = code[i];
    const bool prefix = b == 0x66 || b == 0x67 || b == 0xF0 || b == 0xF2 || b == 0xF3 || b == 0x2E || b == 0x36 ||
                        b == 0x3E || b == 0x26 || b == 0x64 || b == 0x65 || (b >= 0x40 && b <= 0x4F);
    if (!prefix) break;
    ++i;
  }
  if (i >= len) return true;
  const uint8_t op = code[i];
  if (op == 0x9C || op == 0x9D || op == 0xCC || op == 0xCD || op == 0xCE || op == 0xCF) return true;
  if (op == 0x0F && i + 1 < len) {
    const uint8_t op2 = code[i + 1];
    return op2 == 0x05 || op2 == 0x34 || op2 == 0x07 || op2 == 0x35 || op2 == 0x01;
  }
  return op == 0x0F;  // an escape whose second byte we could not read
}

bool overlaps(uint64_t a, uint64_t a_len, uint64_t b, uint64_t b_len) { return a < b + b_len && b < a + a_len; }

// One look at the instruction this stepping thread is about to run. signal-safe.
void step_check(ThreadState& t, void* ucontext) {
  Probe& p = the_probe;
  if (t.step_confirm != 0) {
    // The claimed write has now run: publish it (unless the search was closed).
    uint32_t claimed = kClaimed;
    if (p.generation.load(std::memory_order_acquire) == t.step_generation)
      p.state.compare_exchange_strong(claimed, kDone, std::memory_order_acq_rel);
    stop_stepping(t, ucontext);
    return;
  }
  if (t.in_runtime != 0 || p.generation.load(std::memory_order_acquire) != t.step_generation ||
      p.state.load(std::memory_order_acquire) != kOpen || t.step_budget == 0) {
    stop_stepping(t, ucontext);
    return;
  }
  --t.step_budget;
  const CpuRegisters regs = registers_from_ucontext(ucontext);
  uint8_t* const code = t.code;
  const size_t len = copy_from_memory(regs.rip, code, 15);
  if (len == 0 || unsafe_to_step(code, len)) {
    stop_stepping(t, ucontext);
    return;
  }
  MemoryAccess a;
  const uint64_t address = p.address.load(std::memory_order_relaxed);
  const uint32_t size = p.size.load(std::memory_order_relaxed);
  if (decode_access_at(regs, code, len, /*lookahead=*/0, &a) == DecodeStatus::kAccess && writes(a.kind) &&
      !a.branch && overlaps(a.address, a.size ? a.size : 1, address, size)) {
    uint32_t open = kOpen;
    if (!p.state.compare_exchange_strong(open, kClaimed, std::memory_order_acq_rel)) {
      stop_stepping(t, ucontext);
      return;
    }
    if (p.generation.load(std::memory_order_acquire) != t.step_generation) {
      uint32_t claimed = kClaimed;  // a new search started under us: give it back
      p.state.compare_exchange_strong(claimed, kOpen, std::memory_order_acq_rel);
      stop_stepping(t, ucontext);
      return;
    }
    AccessRecord& w = p.writer.access;
    w.pc = a.pc;
    w.address = a.address;
    w.size = a.size;
    w.kind = static_cast<uint8_t>(a.kind);
    w.atomic = a.atomic ? 1 : 0;
    w.reserved = 0;
    w.thread_uid = t.uid;
    p.writer.slot = t.slot;
    w.os_tid = t.os_tid;
    enter_runtime(&t);  // libunwind's pthread calls are not the program's
    capture_stack_from_signal(ucontext, a.pc, &w.stack);
    leave_runtime(&t);
    snapshot_held_locks(t.held_locks, held_locks_tracked(runtime().flags), &p.writer.locks);
    t.step_confirm = 1;  // one more step: the write runs, then it is published
  }
  if (t.step_budget == 0 && t.step_confirm == 0) stop_stepping(t, ucontext);
}

}  // namespace

bool find_writer(ThreadState& t, uint64_t address, uint32_t size, uint64_t wait_ns, FoundWriter* out,
                 bool* atomic_writer) {
  Runtime& rt = runtime();
  Probe& p = the_probe;
  *atomic_writer = false;
  uint32_t idle = 0;
  if (!p.busy.compare_exchange_strong(idle, 1, std::memory_order_acq_rel)) return false;  // one at a time
  p.address.store(address, std::memory_order_relaxed);
  p.size.store(size, std::memory_order_relaxed);
  p.owner_slot.store(t.slot, std::memory_order_relaxed);
  const uint64_t generation = p.generation.load(std::memory_order_relaxed) + 1;
  p.generation.store(generation, std::memory_order_release);
  p.state.store(kOpen, std::memory_order_release);

  // Yield while waiting: the other threads' ticks, and then their steps, may need
  // this CPU to run.
  const uint64_t deadline = monotonic_ns() + wait_ns;
  while (monotonic_ns() < deadline && p.state.load(std::memory_order_acquire) == kOpen) raw_sched_yield();
  bool found = false;
  uint32_t open = kOpen;
  if (!p.state.compare_exchange_strong(open, kClosed, std::memory_order_acq_rel)) {
    // Claimed: the claimer publishes after one more step of its own.
    const uint64_t claimed_deadline = monotonic_ns() + kClaimedWaitNs;
    while (p.state.load(std::memory_order_acquire) == kClaimed && monotonic_ns() < claimed_deadline) raw_sched_yield();
    uint32_t claimed = kClaimed;
    if (!p.state.compare_exchange_strong(claimed, kClosed, std::memory_order_acq_rel))
      found = p.state.load(std::memory_order_acquire) == kDone;
  }
  if (found) {
    *out = p.writer;
    *atomic_writer = out->access.atomic != 0 && !rt.flags.report_atomics;
  }
  p.state.store(kClosed, std::memory_order_release);
  p.generation.store(generation + 1, std::memory_order_release);  // steppers of this search stop
  p.busy.store(0, std::memory_order_release);
  return found && !*atomic_writer;
}

bool join_writer_search(ThreadState& t, void* ucontext) {
  Probe& p = the_probe;
  if (p.state.load(std::memory_order_acquire) != kOpen) return false;
  const uint64_t generation = p.generation.load(std::memory_order_acquire);
  if (generation == t.step_generation || p.owner_slot.load(std::memory_order_relaxed) == t.slot) return false;
  if (!t.watching || t.in_runtime != 0) return false;
  t.step_generation = generation;  // joins each search once
  t.step_budget = kWriterStepBudget;
  t.step_confirm = 0;
  set_trap_flag(ucontext, true);
  step_check(t, ucontext);  // the instruction at the interrupted pc runs first
  return true;
}

void writer_search_after_fork() {
  Probe& p = the_probe;
  p.state.store(kClosed, std::memory_order_relaxed);
  p.busy.store(0, std::memory_order_relaxed);
}

bool handle_writer_search_step(ThreadState* t, const siginfo_t* info, void* ucontext, bool room) {
  if (t == nullptr || info->si_code != TRAP_TRACE || (t->step_budget == 0 && t->step_confirm == 0)) return false;
  if (room) step_check(*t, ucontext);
  else stop_stepping(*t, ucontext);
  return true;
}

}  // namespace racetrap
