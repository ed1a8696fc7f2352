// unwind_signal_block.h — every signal blocked, once, around an unwind racetrap
// makes in ordinary context (a thread's creation stack, a lock-order edge's).
//
// libunwind blocks every signal itself around each use of its caches and its
// table search (dl_iterate_phdr): two mask changes a frame or more, each through
// racetrap's pthread_sigmask interposer (interpose_sigmask.cc), which asks the
// kernel too: sort's lock-order edges made ~700 rt_sigprocmask calls a run. With
// this scope held the kernel mask already blocks everything, so the interposer
// answers libunwind's calls without a system call (unwinding_with_signals_blocked),
// as it does inside racetrap's own SIGTRAP handler, whose sa_mask blocks
// everything. A signal that arrives meanwhile is delivered when the scope ends,
// as it would be when libunwind's own block ended.
//
// Contract: signal-safe (raw rt_sigprocmask, a thread-local counter).
#pragma once

#include <csignal>

namespace racetrap {

class SignalsBlockedForUnwind {
 public:
  SignalsBlockedForUnwind();
  ~SignalsBlockedForUnwind();
  SignalsBlockedForUnwind(const SignalsBlockedForUnwind&) = delete;
  SignalsBlockedForUnwind& operator=(const SignalsBlockedForUnwind&) = delete;

 private:
  sigset_t saved_;
  bool blocked_;
};

// signal-safe. True while the calling thread holds a SignalsBlockedForUnwind.
bool unwinding_with_signals_blocked();

}  // namespace racetrap
