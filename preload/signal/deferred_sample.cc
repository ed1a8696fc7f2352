// deferred_sample.cc — see deferred_sample.h. signal-safe: libunwind (never while
// the thread itself is inside it), Zydis, process_vm_readv.
#include "deferred_sample.h"

#include "decoder.h"
#include "own_code.h"
#include "signal_context.h"
#include "stack_capture.h"
#include "thread_state.h"

namespace racetrap {
namespace {

constexpr int kLookahead = 4;

bool is_racetrap_code(uint64_t pc) { return called_from_racetrap(pc); }

}  // namespace

bool access_after_runtime_call(ThreadState& t, void* ucontext, MemoryAccess* out, StackRecord* stack) {
  CpuRegisters regs;
  uint32_t known = 0;
  if (!unwind_to_caller(ucontext, &is_racetrap_code, &regs, &known, stack)) return false;
  const size_t code_len = copy_from_memory(regs.rip, t.code, sizeof t.code);
  if (code_len == 0) return false;
  // Registers the call clobbered are unknown: decode twice with two different
  // values in them; an address that comes out the same does not depend on them.
  CpuRegisters a = regs, b = regs;
  for (int i = 0; i < 16; ++i) {
    if (known & (1u << i)) continue;
    a.gpr[i] = 0x1111111111111111ull * (i + 1);
    b.gpr[i] = 0x7a7a7a7a7a7a7a7aull ^ (static_cast<uint64_t>(i) << 40);
  }
  MemoryAccess x, y;
  if (decode_access_at(a, t.code, code_len, kLookahead, &x) != DecodeStatus::kAccess ||
      decode_access_at(b, t.code, code_len, kLookahead, &y) != DecodeStatus::kAccess)
    return false;
  if (x.pc != y.pc || x.address != y.address || x.branch) return false;
  *out = x;
  stack->frames[0] = x.pc;
  return true;
}

}  // namespace racetrap
