// deferred_sample.cc — see deferred_sample.h. signal-safe: libunwind (never while
// the thread itself is inside it), Zydis, process_vm_readv, rt_tgsigqueueinfo.
#include "deferred_sample.h"

#include <signal.h>

#include <cstring>

#ifndef TRAP_PERF
#define TRAP_PERF 6  // glibc before 2.36
#endif

#include "decoder.h"
#include "perf_events.h"
#include "runtime.h"
#include "own_code.h"
#include "signal_context.h"
#include "signal_safety.h"
#include "stack_capture.h"
#include "thread_state.h"

namespace racetrap {
namespace {

// Instructions walked from the return address, at most: the accesses a lock's
// critical section makes first (a tick inside the call cannot know which of them
// is racy), half the sampler's forward walk, as deferred samples are half the
// ticks in a lock-heavy program and each walk is made twice.
constexpr int kForward = 16;
constexpr int kMaxAccesses = 12;

bool is_racetrap_code(uint64_t pc) { return called_from_racetrap(pc); }

}  // namespace

int accesses_after_runtime_call(ThreadState& t, void* ucontext, const AccessFilter& filter, int max_usable,
                                MemoryAccess* out, int max_out, StackRecord* stack) {
  CpuRegisters regs;
  uint32_t known = 0;
  if (!unwind_to_caller(ucontext, &is_racetrap_code, &regs, &known, stack)) return 0;
  const size_t code_len = copy_from_memory(regs.rip, t.code, sizeof t.code);
  if (code_len == 0) return 0;
  // Registers the call clobbered are unknown: walk twice with two different
  // values in them (one of them zero, so that a test of the return value decides
  // its branch differently in the two walks); what comes out the same in both
  // does not depend on them.
  CpuRegisters a = regs, b = regs;
  for (int i = 0; i < 16; ++i) {
    if (known & (1u << i)) continue;
    a.gpr[i] = 0x1111111111111111ull * (i + 1);
    b.gpr[i] = 0;
  }
  if (max_out > kMaxAccesses) max_out = kMaxAccesses;
  MemoryAccess xa[kMaxAccesses], xb[kMaxAccesses];
  const int na = decode_path_accesses_until(a, t.code, code_len, regs.rip, kForward, xa, max_out, filter, max_usable);
  if (na == 0) return 0;
  const int nb = decode_path_accesses_until(b, t.code, code_len, regs.rip, kForward, xb, max_out, filter, max_usable);
  int n = 0;
  for (int i = 0; i < na; ++i) {
    if (xa[i].branch) continue;
    for (int j = 0; j < nb; ++j) {
      if (xb[j].pc == xa[i].pc && xb[j].address == xa[i].address && xb[j].size == xa[i].size) {
        out[n++] = xa[i];
        break;
      }
    }
  }
  return n;
}

void raise_own_tick(sig_data::Kind kind) {
  ErrnoKeeper keep;
  // The kernel's siginfo for SIGTRAP / TRAP_PERF (read_perf_signal's layout):
  // si_perf_data at byte 24, si_perf_flags 0 (not late). A thread may queue any
  // si_code to itself.
  siginfo_t info;
  std::memset(&info, 0, sizeof info);
  info.si_signo = SIGTRAP;
  info.si_code = TRAP_PERF;
  const uint64_t data = sig_data::make(kind, 0, 0);
  std::memcpy(reinterpret_cast<unsigned char*>(&info) + 24, &data, sizeof data);
  queue_sigtrap_to_self(&info);
}

void raise_postponed_tick() {
  runtime().stats.samples_postponed.fetch_add(1, std::memory_order_relaxed);
  raise_own_tick(sig_data::kPostponedTick);
}

}  // namespace racetrap
