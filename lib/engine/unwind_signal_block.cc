// unwind_signal_block.cc — every signal blocked around an ordinary-context unwind
// (unwind_signal_block.h). Contract: signal-safe.
#include "unwind_signal_block.h"

#include <sys/syscall.h>
#include <unistd.h>

#include "signal_safety.h"

namespace racetrap {
namespace {

__attribute__((tls_model("initial-exec"))) thread_local int blocked_for_unwind = 0;

// The kernel's signal mask is 8 bytes on x86-64 (glibc's sigset_t holds 128).
constexpr long kKernelSigsetBytes = 8;

}  // namespace

SignalsBlockedForUnwind::SignalsBlockedForUnwind() {
  ErrnoKeeper keep;
  // glibc's full set: every signal but the two its threads need (cancellation,
  // setxid), as libunwind's own block takes.
  sigset_t all;
  sigfillset(&all);
  blocked_ = syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &saved_, kKernelSigsetBytes) == 0;
  if (blocked_) ++blocked_for_unwind;
}

SignalsBlockedForUnwind::~SignalsBlockedForUnwind() {
  if (!blocked_) return;
  ErrnoKeeper keep;
  --blocked_for_unwind;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &saved_, nullptr, kKernelSigsetBytes);
}

bool unwinding_with_signals_blocked() { return blocked_for_unwind != 0; }

}  // namespace racetrap
