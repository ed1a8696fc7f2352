// signal_handler.cc — SIGTRAP dispatch: racetrap's sampling ticks and watchpoint
// traps go to the engine, every other SIGTRAP to the program's own handler.
// Contract: the handler and everything it calls are signal-safe (no malloc, no
// locks, no stdio), preserve errno, and keep stack use small.
#include "signal_handler.h"

#include <dlfcn.h>
#include <pthread.h>

#include <cerrno>
#include <cstring>

#include "breakpoint_self_test.h"
#include "breakpoint_trap_probe.h"
#include "perf_events.h"
#include "sampler.h"
#include "thread_state.h"
#include "watchpoint_trap.h"

namespace racetrap {
namespace {

struct sigaction the_program_action;  // SIG_DFL until the program says otherwise

// signal-safe. A SIGTRAP that is not racetrap's: do what the program asked for,
// as the kernel would have (its sa_mask blocked during its handler,
// SA_RESETHAND honoured).
void chain_to_program(int sig, siginfo_t* info, void* ucontext) {
  struct sigaction act = the_program_action;
  if (act.sa_handler == SIG_IGN) return;
  if (act.sa_handler == SIG_DFL) {
    // Default action (core dump): restore it and let the signal take effect when
    // this handler returns (SIGTRAP is blocked until then).
    struct sigaction dfl;
    std::memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    real_sigaction(SIGTRAP, &dfl, nullptr);
    raise(SIGTRAP);
    return;
  }
  if (act.sa_flags & SA_RESETHAND) {
    std::memset(&the_program_action, 0, sizeof the_program_action);
    the_program_action.sa_handler = SIG_DFL;
  }
  sigset_t old_mask;
  sigset_t mask = act.sa_mask;
  if ((act.sa_flags & SA_NODEFER) == 0) sigaddset(&mask, SIGTRAP);
  pthread_sigmask(SIG_BLOCK, &mask, &old_mask);
  if (act.sa_flags & SA_SIGINFO) {
    if (act.sa_sigaction != nullptr) act.sa_sigaction(sig, info, ucontext);
  } else {
    act.sa_handler(sig);
  }
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
}

// signal-safe. Whether the stack this handler runs on has room for the sampler
// or trap work (decoding, unwinding: about 8.5 KiB measured, see
// tests/reliability): a thread with a tiny stack, or a program's small
// sigaltstack, is left alone rather than overflowed.
constexpr uintptr_t kHandlerStackNeed = 16 * 1024;
bool enough_stack(const ThreadState& t) {
  uintptr_t sp = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  stack_t alt;
  if (sigaltstack(nullptr, &alt) == 0 && (alt.ss_flags & SS_ONSTACK) != 0) {
    uintptr_t base = reinterpret_cast<uintptr_t>(alt.ss_sp);
    return sp > base && sp - base >= kHandlerStackNeed;
  }
  if (t.stack.begin == 0 || !t.stack.contains(sp)) return true;  // unknown stack: trust it
  return sp - t.stack.begin >= kHandlerStackNeed;
}

// signal-safe.
void on_sigtrap(int sig, siginfo_t* info, void* ucontext) {
  int saved_errno = errno;
  PerfSignal perf = read_perf_signal(info);
  if (!perf.is_perf || !sig_data::is_ours(perf.data)) {
    chain_to_program(sig, info, ucontext);
    errno = saved_errno;
    return;
  }
  if (is_probe_trap(perf.data)) {  // the start-up self-test's trap (no thread is watched yet)
    on_self_test_trap(perf.data);
    errno = saved_errno;
    return;
  }
  ThreadState* t = current_thread();
  if (t != nullptr && t->watching) {
    // pthread calls made by what the handler uses (libunwind takes mutexes) are
    // not the program's synchronization: the interposers pass them straight through.
    t->in_signal_handler = 1;
    std::atomic_signal_fence(std::memory_order_seq_cst);
    const bool room = enough_stack(*t);
    if (sig_data::kind(perf.data) == sig_data::kSampleTick) {
      if (!perf.async && room) on_sample_tick(*t, ucontext);
    } else if (room) {
      on_watchpoint_trap(*t, ucontext, sig_data::slot(perf.data), sig_data::generation(perf.data), perf.async);
    } else {
      const unsigned slot = sig_data::slot(perf.data);
      if (slot < static_cast<unsigned>(kMaxWatchSlots)) {  // one-shot all the same
        t->breakpoints[slot].disarm();
        t->done_generation[slot] = sig_data::generation(perf.data);
      }
    }
    std::atomic_signal_fence(std::memory_order_seq_cst);
    t->in_signal_handler = 0;
  }
  errno = saved_errno;
}

}  // namespace

struct sigaction& program_trap_action() { return the_program_action; }

int real_sigaction(int sig, const struct sigaction* act, struct sigaction* old) {
  using Fn = int (*)(int, const struct sigaction*, struct sigaction*);
  static Fn fn = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "sigaction"));
  return fn(sig, act, old);
}

void install_trap_handler() {
  struct sigaction act;
  std::memset(&act, 0, sizeof act);
  act.sa_sigaction = on_sigtrap;
  act.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
  sigemptyset(&act.sa_mask);
  real_sigaction(SIGTRAP, &act, &the_program_action);
}

}  // namespace racetrap
