// sampler.cc — the sampling tick. signal-safe: decode, filter, capture the stack,
// publish to the board; no allocation, no locks.
#include "sampler.h"

#include "arming.h"
#include "decoder.h"
#include "safe_format.h"
#include "signal_context.h"
#include "stack_capture.h"
#include "thread_state.h"

namespace racetrap {
namespace {

constexpr int kLookahead = 4;
constexpr size_t kBefore = 32;
constexpr uint64_t kUserSpaceEnd = 0x800000000000ull;

// Whether another thread could ever touch these bytes in a way worth watching.
bool worth_watching(const ThreadState& t, const Runtime& rt, const MemoryAccess& a) {
  if (a.stack_relative || a.segment_relative) return false;
  if (a.atomic && !rt.flags.report_atomics) return false;
  if (a.address < 4096 || a.address >= kUserSpaceEnd) return false;
  if (t.stack.contains(a.address) || t.tls.contains(a.address)) return false;
  for (int i = 0; i < rt.libc_data_count; ++i)
    if (rt.libc_data[i].contains(a.address)) return false;
  return true;
}

// The access to watch for this sample. Both the instruction the thread was about
// to run (or a few after it) and the one it just ran are candidates: a timer
// interrupt is taken after a slow instruction retires, so the sampled pc often
// sits right after the memory access that took the time. Which is tried first is
// random, so both kinds of site get watched.
bool pick_access(ThreadState& t, const CpuRegisters& regs, MemoryAccess* out) {
  uint8_t* const before = t.code;                 // kBefore bytes ending at rip
  uint8_t* const at = t.code + kBefore;           // bytes from rip on
  const size_t at_len = copy_from_memory(regs.rip, at, sizeof t.code - kBefore);
  const size_t before_len = copy_from_memory(regs.rip - kBefore, before, kBefore);
  auto from_before = [&] {
    return before_len == kBefore && decode_access_before(regs, before, before_len, out) == DecodeStatus::kAccess &&
           !out->branch;
  };
  auto from_here = [&] {
    return at_len != 0 && decode_access_at(regs, at, at_len, kLookahead, out) == DecodeStatus::kAccess && !out->branch;
  };
  if (t.random.next() & 1) return from_before() || from_here();
  return from_here() || from_before();
}

}  // namespace

void on_sample_tick(ThreadState& t, void* ucontext) {
  Runtime& rt = runtime();
  rt.stats.samples.fetch_add(1, std::memory_order_relaxed);
  if (rt.flags.verbosity >= 3) {
    LineBuffer line;
    line.text("racetrap: T").dec(t.uid).text(" tick pc=").hex(registers_from_ucontext(ucontext).rip)
        .text(t.in_runtime ? " in-runtime" : "");
    line.write_line(2);
  }
  if (t.in_runtime != 0) {
    rt.stats.samples_in_runtime.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  sync_debug_registers(t);

  const CpuRegisters regs = registers_from_ucontext(ucontext);
  MemoryAccess access;
  if (!pick_access(t, regs, &access)) {
    rt.stats.samples_no_access.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (!worth_watching(t, rt, access)) {
    rt.stats.samples_filtered.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  Watch& w = t.scratch_watch;
  w.access = access;
  breakpoint_range_for(access, &w.bp_address, &w.bp_size);
  w.bp_type = writes(access.kind) ? BreakpointType::kReadWrite : BreakpointType::kWrite;
  w.value = 0;
  if (copy_from_memory(w.bp_address, &w.value, w.bp_size) != w.bp_size) {
    rt.stats.samples_filtered.fetch_add(1, std::memory_order_relaxed);  // not mapped: it would fault
    return;
  }
  w.owner_uid = t.uid;
  w.owner_slot = t.slot;
  w.owner_tid = t.os_tid;
  w.owner_epoch = t.clock.get(t.slot);
  w.published_ns = monotonic_ns();
  capture_stack_from_signal(ucontext, access.pc, &w.stack);
  const int slot = rt.board.publish(w, w.published_ns, t.random);
  if (slot >= 0) rt.stats.watches_published.fetch_add(1, std::memory_order_relaxed);
  if (rt.flags.verbosity >= 3) {
    LineBuffer line;
    line.text("racetrap: T").dec(t.uid).text(" sample pc=").hex(access.pc).text(" addr=").hex(access.address)
        .text(" size=").dec(access.size).text(" ").text(access_kind_name(access.kind))
        .text(slot >= 0 ? " published" : " not chosen");
    line.write_line(2);
  }
}

}  // namespace racetrap
