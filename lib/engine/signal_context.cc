// signal_context.cc — ucontext register extraction and fault-free memory reads.
// signal-safe.
#include "signal_context.h"

#include <cpuid.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "signal_safety.h"
#include "vdso_clock.h"

namespace racetrap {

CpuRegisters registers_from_ucontext(const void* ucontext) {
  const greg_t* g = static_cast<const ucontext_t*>(ucontext)->uc_mcontext.gregs;
  CpuRegisters r;
  r.gpr[kRax] = g[REG_RAX];
  r.gpr[kRcx] = g[REG_RCX];
  r.gpr[kRdx] = g[REG_RDX];
  r.gpr[kRbx] = g[REG_RBX];
  r.gpr[kRsp] = g[REG_RSP];
  r.gpr[kRbp] = g[REG_RBP];
  r.gpr[kRsi] = g[REG_RSI];
  r.gpr[kRdi] = g[REG_RDI];
  r.gpr[kR8] = g[REG_R8];
  r.gpr[kR9] = g[REG_R9];
  r.gpr[kR10] = g[REG_R10];
  r.gpr[kR11] = g[REG_R11];
  r.gpr[kR12] = g[REG_R12];
  r.gpr[kR13] = g[REG_R13];
  r.gpr[kR14] = g[REG_R14];
  r.gpr[kR15] = g[REG_R15];
  r.rip = g[REG_RIP];
  return r;
}

namespace {
std::atomic<uint32_t> own_pid{0};
}  // namespace

void set_own_pid_for_reads(uint32_t pid) { own_pid.store(pid, std::memory_order_relaxed); }

size_t copy_from_memory(uint64_t address, void* out, size_t len) {
  ErrnoKeeper keep;
  iovec local{out, len};
  iovec remote{reinterpret_cast<void*>(address), len};
  const uint32_t pid = own_pid.load(std::memory_order_relaxed);
  ssize_t n = process_vm_readv(pid != 0 ? static_cast<pid_t>(pid) : raw_getpid(), &local, 1, &remote, 1, 0);
  return n > 0 ? static_cast<size_t>(n) : 0;
}

size_t copy_word_from_memory(uint64_t address, void* out, size_t len) {
  const uint64_t block = address & ~7ull;
  // A null signal set is the call's "no change": the first page is left to the
  // kernel's copy (it is never mapped for the program).
  if (len == 0 || len > 8 || address + len > block + 8 || block < 4096 || execute_only_possible() != 0)
    return copy_from_memory(address, out, len);
  ErrnoKeeper keep;
  // The kernel's sigset_t is 8 bytes: the aligned block, read with copy_from_user.
  if (syscall(SYS_rt_sigprocmask, SIG_BLOCK, reinterpret_cast<const void*>(block), nullptr, 8) != 0)
    return copy_from_memory(address, out, len);
  std::memcpy(out, reinterpret_cast<const void*>(address), len);
  return len;
}

int execute_only_possible() {
  static std::atomic<int> known{-1};
  int v = known.load(std::memory_order_relaxed);
  if (v >= 0) return v;
  unsigned a = 0, b = 0, c = 0, d = 0;
  v = 1;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) v = (c & (1u << 4)) != 0 ? 1 : 0;  // OSPKE
  known.store(v, std::memory_order_relaxed);
  return v;
}

size_t copy_code_near(uint64_t interrupted_pc, uint64_t address, void* out, size_t len) {
  constexpr uint64_t kPageSize = 4096;
  const uint64_t page = interrupted_pc & ~(kPageSize - 1);
  if (execute_only_possible() == 0 && address >= page && address + len <= page + kPageSize) {
    std::memcpy(out, reinterpret_cast<const void*>(address), len);
    return len;
  }
  return copy_from_memory(address, out, len);
}

size_t copy_code_before(uint64_t pc, uint8_t* out) {
  constexpr size_t kMaxInstructionLength = 15;
  constexpr uint64_t kPageSize = 4096;
  size_t want = kMaxInstructionLength;
  if (copy_code_near(pc, pc - want, out, want) == want) return want;
  want = pc - (pc & ~(kPageSize - 1));  // the previous page is unmapped: stay in this one
  if (want == 0 || want > kMaxInstructionLength) return 0;
  return copy_code_near(pc, pc - want, out, want) == want ? want : 0;
}

}  // namespace racetrap
