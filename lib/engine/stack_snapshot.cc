// stack_snapshot.cc — taking a snapshot (see stack_snapshot.h). The unwinding of
// a snapshot is in stack_snapshot_unwind.cc: it needs libunwind's generic
// (address-space) interface, this file only the local getcontext.
#define UNW_LOCAL_ONLY
#include "stack_snapshot.h"

#include <libunwind.h>
#include <ucontext.h>

#include <cstring>

namespace racetrap {

// signal-safe
__attribute__((noinline)) bool take_stack_snapshot(uint64_t stack_begin, uint64_t stack_end, StackSnapshot* out) {
  unw_context_t context;
  unw_getcontext(&context);
  const greg_t* g = context.uc_mcontext.gregs;
  static constexpr int kOrder[17] = {REG_RAX, REG_RDX, REG_RCX, REG_RBX, REG_RSI, REG_RDI, REG_RBP, REG_RSP, REG_R8,
                                     REG_R9,  REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15, REG_RIP};
  const uint64_t rsp = static_cast<uint64_t>(g[REG_RSP]);
  if (rsp < stack_begin || rsp >= stack_end) return false;
  for (int i = 0; i < 17; ++i) out->regs[i] = static_cast<uint64_t>(g[kOrder[i]]);
  out->base = rsp;
  out->stack_begin = stack_begin;
  out->stack_end = stack_end;
  out->length = stack_end - rsp < StackSnapshot::kBytes ? stack_end - rsp : StackSnapshot::kBytes;
  std::memcpy(out->bytes, reinterpret_cast<const void*>(rsp), out->length);
  return true;
}

}  // namespace racetrap
