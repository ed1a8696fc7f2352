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
#include "sigtrap_mask.h"

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
  // Every signal blocked while racetrap's handler runs, by the kernel at delivery
  // (free: it sets the handler's mask anyway, and sigreturn restores the
  // program's): no handler of the program may run inside a stall (a change must
  // come from another thread) or inside libunwind's steps (which would otherwise
  // block and restore all signals around each frame, two system calls a frame);
  // the mask interposers answer those calls without the kernel
  // (interpose_sigmask.cc). Signals arriving meanwhile wait the handler's few
  // microseconds, as they would behind any other handler of the thread.
  sigfillset(&act.sa_mask);
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
// signals in one thread with sigwait or a signalfd") still get sampled: the mask
// interposers keep SIGTRAP out of the kernel mask (sigtrap_mask.h). Where the
// kernel blocks it anyway (a handler whose sa_mask holds SIGTRAP, sigsuspend's
// mask) racetrap's SIGTRAP stays pending, is delivered later flagged
// asynchronous, and is ignored. Such a pending SIGTRAP must never reach the
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
  if (real_pthread_sigmask(SIG_BLOCK, nullptr, &blocked) != 0 || sigismember(&blocked, SIGTRAP) != 1) return;
  ErrnoKeeper keep;
  sigset_t only;
  sigemptyset(&only);
  sigaddset(&only, SIGTRAP);
  siginfo_t info;
  struct timespec zero = {0, 0};
  if (syscall(SYS_rt_sigtimedwait, &only, &info, &zero, _NSIG / 8) == SIGTRAP) {
    PerfSignal perf = read_perf_signal(&info);
    if (!(perf.is_perf && sig_data::is_ours(perf.data)))
      queue_sigtrap_to_self(&info);
  }
}

// A program SIGTRAP held while the program blocks SIGTRAP (sigtrap_mask.h) is
// pending for the program: a wait on a set that holds SIGTRAP takes it first.
bool take_held_for(const sigset_t* set, siginfo_t* info) {
  return set != nullptr && runtime_active() && sigismember(set, SIGTRAP) == 1 && take_held_sigtrap(info);
}

}  // namespace

RACETRAP_INTERPOSE int sigwait(const sigset_t* set, int* sig) {
  static auto real = next_function<int (*)(const sigset_t*, int*)>("sigwait");
  if (take_held_for(set, nullptr)) {
    if (sig != nullptr) *sig = SIGTRAP;
    return 0;
  }
  sigset_t scratch;
  return real(without_sigtrap(set, &scratch), sig);
}

RACETRAP_INTERPOSE int sigwaitinfo(const sigset_t* set, siginfo_t* info) {
  static auto real = next_function<int (*)(const sigset_t*, siginfo_t*)>("sigwaitinfo");
  siginfo_t held;
  if (take_held_for(set, &held)) {
    if (info != nullptr) *info = held;
    return SIGTRAP;
  }
  sigset_t scratch;
  return real(without_sigtrap(set, &scratch), info);
}

RACETRAP_INTERPOSE int sigtimedwait(const sigset_t* set, siginfo_t* info, const struct timespec* timeout) {
  static auto real = next_function<int (*)(const sigset_t*, siginfo_t*, const struct timespec*)>("sigtimedwait");
  siginfo_t held;
  if (take_held_for(set, &held)) {
    if (info != nullptr) *info = held;
    return SIGTRAP;
  }
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
  if (mask == nullptr || !runtime_active()) return real(mask);
  if (sigismember(mask, SIGTRAP) == 0) drop_pending_perf_sigtrap();
  // While it waits, the program's view of SIGTRAP is the one in `mask`; a held
  // SIGTRAP that `mask` lets through is delivered now and ends the wait, as a
  // pending signal would.
  const bool outside = program_blocks_sigtrap();
  const bool inside = sigismember(mask, SIGTRAP) == 1;
  if (!inside && sigtrap_held()) {
    set_program_blocks_sigtrap(false);  // delivers it to the program's handler
    set_program_blocks_sigtrap(outside);
    errno = EINTR;
    return -1;
  }
  set_program_blocks_sigtrap(inside);
  int rc = real(mask);
  int saved = errno;
  set_program_blocks_sigtrap(outside);
  errno = saved;
  return rc;
}

}  // namespace racetrap
