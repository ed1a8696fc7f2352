// interpose_sigmask.cc — pthread_sigmask, sigprocmask and sigpending keep SIGTRAP
// out of the kernel mask and show the program its own view of it
// (sigtrap_mask.h), so threads that block SIGTRAP are still sampled.
#include <signal.h>

#include <cerrno>

#include "real_function.h"
#include "runtime.h"
#include "sigtrap_mask.h"
#include "thread_state.h"

namespace racetrap {
namespace {

// signal-safe. True when the kernel is known to block SIGTRAP on this thread
// without asking it, and the call cannot change that: inside racetrap's own
// SIGTRAP handler (installed without SA_NODEFER), where libunwind saves and
// restores the whole mask around its lookups, a call that keeps SIGTRAP blocked.
// Each of those would otherwise cost one more rt_sigprocmask (about 0.5 us here)
// to learn what is already known, several times per sample.
bool trap_blocked_inside_own_handler(int how, const sigset_t* set) {
  const ThreadState* t = current_thread();
  if (t == nullptr || t->in_signal_handler == 0) return false;
  return set == nullptr || how == SIG_BLOCK || (how == SIG_SETMASK && sigismember(set, SIGTRAP) == 1);
}

// signal-safe (programs change masks inside signal handlers).
int filtered_sigmask(int how, const sigset_t* set, sigset_t* old) {
  if (!runtime_active() || trap_blocked_inside_own_handler(how, set)) return real_pthread_sigmask(how, set, old);
  // Where the kernel blocks SIGTRAP the call is passed through unchanged: inside
  // a signal handler whose sa_mask holds SIGTRAP (racetrap's own, with libunwind
  // saving and restoring masks; sigreturn restores the mask afterwards), in a
  // thread racetrap has not adopted, around exec and thread creation
  // (RealSigtrapBlock). The kernel's answer then agrees with the program's view.
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
