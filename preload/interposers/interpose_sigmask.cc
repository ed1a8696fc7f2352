// interpose_sigmask.cc — pthread_sigmask, sigprocmask and sigpending keep SIGTRAP
// out of the kernel mask and show the program its own view of it
// (sigtrap_mask.h), so threads that block SIGTRAP are still sampled.
#include <signal.h>

#include <cerrno>

#include "real_function.h"
#include "runtime.h"
#include "sigtrap_mask.h"
#include "thread_state.h"
#include "unwind_signal_block.h"

namespace racetrap {
namespace {

// signal-safe. Inside racetrap's own SIGTRAP handler (installed with every
// signal in its sa_mask, interpose_signal.cc), and inside an unwind racetrap makes
// in ordinary context (unwind_signal_block.h: every signal blocked around it), the
// kernel mask is known without asking: every signal. Only libraries racetrap uses
// call here then (libunwind saves, blocks all and restores the mask around each
// frame it steps), and a request to block more changes nothing; a request to
// unblock is not honoured until the handler returns (sigreturn restores the
// program's mask) or the unwind ends, which keeps what the caller needs: no signal
// handler runs in between. So the call is answered here, with the mask as it is,
// and costs no system call (about 0.5 us each, ten or more per stack).
bool answered_while_everything_blocked(sigset_t* old) {
  const ThreadState* t = current_thread();
  const bool in_handler = t != nullptr && t->in_signal_handler != 0;
  if (!in_handler && !unwinding_with_signals_blocked()) return false;
  if (old != nullptr) sigfillset(old);
  return true;
}

// signal-safe (programs change masks inside signal handlers).
int filtered_sigmask(int how, const sigset_t* set, sigset_t* old) {
  if (!runtime_active()) return real_pthread_sigmask(how, set, old);
  if (answered_while_everything_blocked(old)) return 0;
  // Where the kernel blocks SIGTRAP the call is passed through unchanged: inside
  // a signal handler whose sa_mask holds SIGTRAP (sigreturn restores the mask
  // afterwards), in a thread racetrap has not adopted, around exec and thread
  // creation (RealSigtrapBlock). The kernel's answer then agrees with the program's view.
  sigset_t now;
  if (real_pthread_sigmask(SIG_BLOCK, nullptr, &now) == 0 && sigismember(&now, SIGTRAP) == 1)
    return real_pthread_sigmask(how, set, old);
  const bool was_blocked = program_blocks_sigtrap();
  const bool names_trap = set != nullptr && sigismember(set, SIGTRAP) == 1;
  sigset_t scratch;
  const sigset_t* real_set = set;
  if (set != nullptr && how != SIG_UNBLOCK && names_trap) {
    scratch = *set;
    sigdelset(&scratch, SIGTRAP);
    real_set = &scratch;
  }
  int rc = real_pthread_sigmask(how, real_set, old);
  if (rc != 0) return rc;
  if (old != nullptr) {
    if (was_blocked) sigaddset(old, SIGTRAP);
    else sigdelset(old, SIGTRAP);
  }
  if (set == nullptr) return 0;
  bool now_blocked = was_blocked;
  if (how == SIG_BLOCK) now_blocked = was_blocked || names_trap;
  else if (how == SIG_UNBLOCK) now_blocked = was_blocked && !names_trap;
  else if (how == SIG_SETMASK) now_blocked = names_trap;
  set_program_blocks_sigtrap(now_blocked);  // unblocking delivers a held SIGTRAP
  return 0;
}

}  // namespace

RACETRAP_INTERPOSE int pthread_sigmask(int how, const sigset_t* set, sigset_t* old) {
  return filtered_sigmask(how, set, old);
}

RACETRAP_INTERPOSE int sigprocmask(int how, const sigset_t* set, sigset_t* old) {
  int rc = filtered_sigmask(how, set, old);
  if (rc == 0) return 0;
  errno = rc;
  return -1;
}

RACETRAP_INTERPOSE int sigpending(sigset_t* set) {
  static auto real = next_function<int (*)(sigset_t*)>("sigpending");
  int rc = real(set);
  if (rc == 0 && set != nullptr && runtime_active() && sigtrap_held()) sigaddset(set, SIGTRAP);
  return rc;
}

}  // namespace racetrap
