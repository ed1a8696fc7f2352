// sampler.cc — the sampling tick. signal-safe: decode, filter, capture the stack,
// publish to the board; no allocation, no locks.
#include "sampler.h"

#include "arming.h"
#include "decoder.h"
#include "signal_context.h"
#include "stack_capture.h"
#include "thread_state.h"

namespace racetrap {
namespace {

constexpr int kLookahead = 4;
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

}  // namespace

void on_sample_tick(ThreadState& t, void* ucontext) {
  Runtime& rt = runtime();
  rt.stats.samples.fetch_add(1, std::memory_order_relaxed);
  if (t.in_runtime != 0) {
    rt.stats.samples_in_runtime.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  sync_debug_registers(t);

  const CpuRegisters regs = registers_from_ucontext(ucontext);
  const size_t code_len = copy_from_memory(regs.rip, t.code, sizeof t.code);
  MemoryAccess access;
  if (code_len == 0 || decode_access_at(regs, t.code, code_len, kLookahead, &access) != DecodeStatus::kAccess) {
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
  if (rt.board.publish(w, w.published_ns, t.random) >= 0)
    rt.stats.watches_published.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace racetrap
