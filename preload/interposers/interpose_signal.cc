// interpose_signal.cc — the program keeps its own SIGTRAP handler: sigaction()
// and signal() for SIGTRAP record it (racetrap's handler stays installed and
// chains to it); every other signal passes straight through.
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "interpose_signal.h"
#include "perf_events.h"
#include "real_function.h"
#include "runtime.h"
#include "signal_safety.h"
#include "signal_handler.h"

namespace racetrap {

// Resolved on first use in ordinary context (no guarded static; two threads that
// race store the same pointer). racetrap's SIGTRAP handler never calls it.
int real_sigaction(int sig, const struct sigaction* act, struct sigaction* old) {
  using Fn = int (*)(int, const struct sigaction*, struct sigaction*);
  static std::atomic<Fn> real{nullptr};
  Fn fn = real.load(std::memory_order_acquire);
  if (fn == nullptr) {
    fn = next_function<Fn>("sigaction");
    real.store(fn, std::memory_order_release);
  }
  return fn(sig, act, old);
}

void install_trap_handler() {
  struct sigaction act;
  std::memset(&act, 0, sizeof act);
  act.sa_sigaction = on_sigtrap;
  act.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
  sigemptyset(&act.sa_mask);
  struct sigaction program;
  real_sigaction(SIGTRAP, &act, &program);
  set_program_trap_action(program);
}

RACETRAP_INTERPOSE int sigaction(int sig, const struct sigaction* act, struct sigaction* old) {
  if (sig != SIGTRAP || !runtime_active()) return real_sigaction(sig, act, old);
  if (old != nullptr) program_trap_action(old);
  if (act != nullptr) set_program_trap_action(*act);
  return 0;
}

RACETRAP_INTERPOSE sighandler_t signal(int sig, sighandler_t handler) {
  static auto real = next_function<sighandler_t (*)(int, sighandler_t)>("signal");
  if (sig != SIGTRAP || !runtime_active()) return real(sig, handler);
  struct sigaction program;
  program_trap_action(&program);
  sighandler_t previous = (program.sa_flags & SA_SIGINFO) ? reinterpret_cast<sighandler_t>(reinterpret_cast<void*>(program.sa_sigaction))
                                                          : program.sa_handler;
  struct sigaction act;
  std::memset(&act, 0, sizeof act);
  act.sa_handler = handler;
  act.sa_flags = SA_RESTART;
  set_program_trap_action(act);
  return previous;
}

}  // namespace racetrap

// Threads that block SIGTRAP (often: "block everything in workers, handle
// signals in one thread with sigwait or a signalfd") still get sampled; the
// kernel then leaves racetrap's SIGTRAP pending on that thread (delivered later
// flagged asynchronous, and ignored). Such a pending SIGTRAP must never reach the
// program:
//   - sigwait/sigwaitinfo/sigtimedwait/signalfd with a set that holds SIGTRAP
//     among other signals wait without SIGTRAP (a set of SIGTRAP alone is left
//     as it is: that program asked for SIGTRAP itself);
//   - sigsuspend first drops racetrap's pending SIGTRAP, so it does not return
//     early with EINTR for a signal the program never saw.
namespace racetrap {
namespace {

// The set without SIGTRAP, when racetrap runs and the set holds other signals too.
const sigset_t* without_sigtrap(const sigset_t* set, sigset_t* scratch) {
  if (set == nullptr || !runtime_active() || sigismember(set, SIGTRAP) != 1) return set;
  *scratch = *set;
  sigdelset(scratch, SIGTRAP);
  if (sigisemptyset(scratch)) return set;
  return scratch;
}

// Consumes a pending SIGTRAP of racetrap's on the calling thread (SIGTRAP
// blocked); one that is not racetrap's is queued again.
void drop_pending_perf_sigtrap() {
  if (!runtime_active()) return;
  sigset_t pending;
  if (sigpending(&pending) != 0 || sigismember(&pending, SIGTRAP) != 1) return;
  sigset_t blocked;
  if (pthread_sigmask(SIG_BLOCK, nullptr, &blocked) != 0 || sigismember(&blocked, SIGTRAP) != 1) return;
  ErrnoKeeper keep;
  sigset_t only;
  sigemptyset(&only);
  sigaddset(&only, SIGTRAP);
  siginfo_t info;
  struct timespec zero = {0, 0};
  if (syscall(SYS_rt_sigtimedwait, &only, &info, &zero, _NSIG / 8) == SIGTRAP) {
    PerfSignal perf = read_perf_signal(&info);
    if (!(perf.is_perf && sig_data::is_ours(perf.data)))
      syscall(SYS_rt_tgsigqueueinfo, getpid(), static_cast<pid_t>(syscall(SYS_gettid)), SIGTRAP, &info);
  }
}

}  // namespace

RACETRAP_INTERPOSE int sigwait(const sigset_t* set, int* sig) {
  static auto real = next_function<int (*)(const sigset_t*, int*)>("sigwait");
  sigset_t scratch;
  return real(without_sigtrap(set, &scratch), sig);
}

RACETRAP_INTERPOSE int sigwaitinfo(const sigset_t* set, siginfo_t* info) {
  static auto real = next_function<int (*)(const sigset_t*, siginfo_t*)>("sigwaitinfo");
  sigset_t scratch;
  return real(without_sigtrap(set, &scratch), info);
}

RACETRAP_INTERPOSE int sigtimedwait(const sigset_t* set, siginfo_t* info, const struct timespec* timeout) {
  static auto real = next_function<int (*)(const sigset_t*, siginfo_t*, const struct timespec*)>("sigtimedwait");
  sigset_t scratch;
  return real(without_sigtrap(set, &scratch), info, timeout);
}

RACETRAP_INTERPOSE int signalfd(int fd, const sigset_t* mask, int flags) {
  static auto real = next_function<int (*)(int, const sigset_t*, int)>("signalfd");
  sigset_t scratch;
  return real(fd, without_sigtrap(mask, &scratch), flags);
}

RACETRAP_INTERPOSE int sigsuspend(const sigset_t* mask) {
  static auto real = next_function<int (*)(const sigset_t*)>("sigsuspend");
  if (mask != nullptr && sigismember(mask, SIGTRAP) == 0) drop_pending_perf_sigtrap();
  return real(mask);
}

}  // namespace racetrap
