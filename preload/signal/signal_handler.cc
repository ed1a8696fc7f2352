// signal_handler.cc — SIGTRAP dispatch: racetrap's sampling ticks and watchpoint
// traps go to the engine, every other SIGTRAP to the program's own handler.
// Contract: the handler and everything it calls are signal-safe (no malloc, no
// locks, no stdio), preserve errno, and keep stack use small.
#include "signal_handler.h"

#include <pthread.h>
#include <signal.h>
#include <ucontext.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "breakpoint_self_test.h"
#include "breakpoint_trap_probe.h"
#include "clock_switch.h"
#include "fault_burst.h"
#include "first_tick_timer.h"
#include "merged_traps.h"
#include "owner_progress.h"
#include "perf_events.h"
#include "sampler.h"
#include "signal_safety.h"
#include "sigtrap_mask.h"
#include "thread_state.h"
#include "writer_search.h"

namespace racetrap {
namespace {

// The SIGTRAP disposition the program asked for, behind a sequence lock: the
// sigaction()/signal() interposers write it on one thread while racetrap's handler
// may read it on another. Even: stable; odd: a writer is copying.
std::atomic<uint32_t> action_sequence{0};
struct sigaction the_program_action;  // SIG_DFL until the program says otherwise

// signal-safe. A consistent copy of the program's disposition and the sequence
// number it was read at (a writer on another thread finishes within a copy).
uint32_t read_program_action(struct sigaction* out) {
  for (;;) {
    const uint32_t before = action_sequence.load(std::memory_order_acquire);
    if (before & 1u) continue;
    std::memcpy(out, &the_program_action, sizeof *out);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (action_sequence.load(std::memory_order_relaxed) == before) return before;
  }
}

// Writes the disposition when it is still the one read at `expected` (even), or,
// with expected == kAnySequence, after whatever writer is busy finishes.
constexpr uint32_t kAnySequence = 1;  // odd: never a stable sequence number
bool write_program_action(const struct sigaction& act, uint32_t expected) {
  for (;;) {
    uint32_t seen = action_sequence.load(std::memory_order_relaxed);
    if (expected != kAnySequence && seen != expected) return false;
    if (seen & 1u) continue;
    if (!action_sequence.compare_exchange_weak(seen, seen + 1, std::memory_order_acquire)) continue;
    std::atomic_thread_fence(std::memory_order_release);
    std::memcpy(&the_program_action, &act, sizeof act);
    action_sequence.store(seen + 2, std::memory_order_release);
    return true;
  }
}

// signal-safe. Puts the kernel's default SIGTRAP action back with the raw system
// call (no restorer is needed for SIG_DFL), so the handler never goes through
// dlsym or glibc's sigaction wrapper.
void reset_sigtrap_to_default() {
  struct KernelSigaction {
    void* handler;
    unsigned long flags;
    void* restorer;
    uint64_t mask;
  } dfl{};
  dfl.handler = reinterpret_cast<void*>(SIG_DFL);
  syscall(SYS_rt_sigaction, SIGTRAP, &dfl, nullptr, sizeof dfl.mask);
}

// signal-safe. A SIGTRAP that is not racetrap's: do what the program asked for,
// as the kernel would have (its sa_mask blocked during its handler,
// SA_RESETHAND honoured).
void chain_to_program(int sig, siginfo_t* info, void* ucontext) {
  struct sigaction act;
  const uint32_t sequence = read_program_action(&act);
  if (act.sa_handler == SIG_IGN) return;
  if (act.sa_handler == SIG_DFL) {
    // Default action (core dump): restore it and let the signal take effect when
    // this handler returns (SIGTRAP is blocked until then).
    reset_sigtrap_to_default();
    raise(SIGTRAP);
    return;
  }
  if (act.sa_flags & SA_RESETHAND) {
    struct sigaction dfl;
    std::memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    write_program_action(dfl, sequence);  // unless the program set a new one meanwhile
  }
  // The mask the kernel would have given the program's handler: the interrupted
  // code's, its sa_mask and SIGTRAP (unless SA_NODEFER). racetrap's handler runs
  // with every signal blocked (interpose_signal.cc), so the mask is set, not
  // added to; the kernel mask directly: the program's view of SIGTRAP
  // (sigtrap_mask.h) is not changed by running its handler.
  sigset_t old_mask;
  sigset_t mask;
  sigorset(&mask, &act.sa_mask, &static_cast<const ucontext_t*>(ucontext)->uc_sigmask);
  if ((act.sa_flags & SA_NODEFER) == 0) sigaddset(&mask, SIGTRAP);
  real_pthread_sigmask(SIG_SETMASK, &mask, &old_mask);
  if (act.sa_flags & SA_SIGINFO) {
    if (act.sa_sigaction != nullptr) act.sa_sigaction(sig, info, ucontext);
  } else {
    act.sa_handler(sig);
  }
  real_pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
}

// signal-safe. Whether the stack this handler runs on has room for the sampler
// or trap work (decoding, unwinding: about 8.5 KiB measured, see
// tests/reliability): a thread with a tiny stack, or a program's small
// sigaltstack, is left alone rather than overflowed. The thread's alternate stack
// is the one the kernel saved in the ucontext at delivery (uc_stack), so no
// sigaltstack call is needed on every tick; with SS_AUTODISARM the kernel has
// disabled it for the handler's duration, and only the saved copy still says
// where it is.
constexpr uintptr_t kHandlerStackNeed = 16 * 1024;
bool enough_stack(const ThreadState& t, const void* ucontext) {
  uintptr_t sp = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  const stack_t& alt = static_cast<const ucontext_t*>(ucontext)->uc_stack;
  if ((alt.ss_flags & SS_DISABLE) == 0 && alt.ss_size != 0) {
    const uintptr_t base = reinterpret_cast<uintptr_t>(alt.ss_sp);
    if (sp > base && sp - base < alt.ss_size) return sp - base >= kHandlerStackNeed;  // running on it
  }
  if (t.stack.begin == 0 || !t.stack.contains(sp)) return true;  // unknown stack: trust it
  return sp - t.stack.begin >= kHandlerStackNeed;
}

// signal-safe. Value-change mode: a single-step trap of a writer search
// (writer_search.h); true when it was one.
bool writer_search_signal(siginfo_t* info, void* ucontext) {
  ThreadState* t = current_thread();
  if (t != nullptr) t->in_signal_handler = 1;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  const bool room = t != nullptr && enough_stack(*t, ucontext);
  const bool ours = handle_writer_search_step(t, info, ucontext, room);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  if (t != nullptr) t->in_signal_handler = 0;
  return ours;
}

// signal-safe. A periodic sampling tick (either clock): the thread's usage read
// once, for the fault pause before the sample (fault_burst.h: the sample's own
// arming then honours it) and the clock choice after it (clock_switch.h); the
// sample itself when `sample` (a synchronous tick with room on the stack).
void take_sampling_tick(ThreadState& t, void* ucontext, bool sample) {
  ThreadUsage usage;
  const bool known = read_thread_usage(&usage);
  if (known) note_faults_at_tick(t, usage.minor_faults);
  if (sample) {
    on_tick_signal(t, ucontext);  // a release trap this tick's signal displaced (merged_traps.h)
    on_sample_tick(t, ucontext);
  }
  if (known) reconsider_sample_clock(t, usage);
}

// signal-safe. The one-shot first tick (perf clock): the timer is done, the
// thread's perf clock opens here and this tick is its first sample.
void on_one_shot_first_tick(ThreadState* t, void* ucontext) {
  t->first_tick.cancel();
  if (t->creating_thread) {
    // Inside pthread_create's clone: the interposer opens the clock once the new
    // thread exists, so that it knows whether that thread inherited it. The tick
    // is in racetrap's own code: no sample is lost.
    t->clock_open_deferred = 1;
  } else {
    if (!t->sample_clock.is_open()) open_sample_clock(t);
    if (enough_stack(*t, ucontext)) {
      on_tick_signal(*t, ucontext);
      on_sample_tick(*t, ucontext);
    }
  }
}

// signal-safe. A thread's first tick, from its one-shot CPU-time timer
// (first_tick_timer.h): the thread has used one sample period of CPU, so it now
// gets its perf sampling clock (ticking from here on), and this tick is its first
// sample. A tick that arrives after the thread stopped being watched (its timer
// already cancelled) is dropped. A periodic timer (RACETRAP_CLOCK=cpu-timer, or auto)
// is the thread's sampling clock: every tick is a sample and the timer stays (under
// auto until the thread moves to a perf clock: clock_switch.h).
void on_first_tick(void* ucontext) {
  ThreadState* t = current_thread();
  if (t == nullptr || !t->watching || !t->first_tick.pending()) return;
  t->in_signal_handler = 1;
  note_handler_entry(t->slot);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  if (t->first_tick.periodic()) {
    take_sampling_tick(*t, ucontext, enough_stack(*t, ucontext));
  } else {
    on_one_shot_first_tick(t, ucontext);
  }
  std::atomic_signal_fence(std::memory_order_seq_cst);
  note_handler_exit(t->slot);
  t->in_signal_handler = 0;
}

}  // namespace

// signal-safe.
void on_sigtrap(int sig, siginfo_t* info, void* ucontext) {
  ErrnoKeeper keep;
  if (is_first_tick(info)) {
    on_first_tick(ucontext);
    return;
  }
  PerfSignal perf = read_perf_signal(info);
  if (!perf.is_perf && runtime().mode == DetectionMode::kValueChange && writer_search_signal(info, ucontext)) return;
  if (!perf.is_perf || !sig_data::is_ours(perf.data)) {
    if (program_blocks_sigtrap()) {
      if (info->si_code <= 0) {
        // Sent (kill, raise, pthread_kill, sigqueue) while the program blocks
        // SIGTRAP: held until it unblocks, as the kernel would keep it pending.
        hold_program_sigtrap(info);
        return;
      }
      // A trap the program caused (int3) with SIGTRAP blocked: the kernel forces
      // the default action on such a trap, and so does this.
      struct sigaction dfl;
      std::memset(&dfl, 0, sizeof dfl);
      dfl.sa_handler = SIG_DFL;
      write_program_action(dfl, kAnySequence);
      set_program_blocks_sigtrap(false);
    }
    chain_to_program(sig, info, ucontext);
    return;
  }
  if (is_probe_trap(perf.data)) {  // the start-up self-test's trap (no thread is watched yet)
    on_self_test_trap(perf.data);
    return;
  }
  ThreadState* t = current_thread();
  if (t != nullptr && t->watching) {
    // pthread calls made by what the handler uses (libunwind takes mutexes) are
    // not the program's synchronization: the interposers pass them straight through.
    t->in_signal_handler = 1;
    note_handler_entry(t->slot);  // owner_progress.h: others may wait for this handler
    std::atomic_signal_fence(std::memory_order_seq_cst);
    const bool room = enough_stack(*t, ucontext);
    if (sig_data::kind(perf.data) == sig_data::kSampleTick) {
      take_sampling_tick(*t, ucontext, !perf.async && room);
    } else if (sig_data::kind(perf.data) == sig_data::kPostponedTick) {  // deferred_sample.h
      if (room) on_sample_tick(*t, ucontext, /*postponed=*/true);
    } else if (sig_data::kind(perf.data) == sig_data::kMissedTick) {  // missed_tick.h: a sample of its own
      if (room) on_sample_tick(*t, ucontext);
    } else {  // a debug register's trap, and any merged into it (merged_traps.h)
      on_breakpoint_signal(*t, ucontext, sig_data::slot(perf.data), sig_data::generation(perf.data), perf.async, room);
    }
    std::atomic_signal_fence(std::memory_order_seq_cst);
    note_handler_exit(t->slot);
    t->in_signal_handler = 0;
  }
}

void program_trap_action(struct sigaction* out) { read_program_action(out); }

void set_program_trap_action(const struct sigaction& act) {
  // SIGTRAP blocked while this thread writes: its own handler, which reads the
  // disposition, cannot interrupt the copy half-way.
  sigset_t trap, old;
  sigemptyset(&trap);
  sigaddset(&trap, SIGTRAP);
  real_pthread_sigmask(SIG_BLOCK, &trap, &old);
  write_program_action(act, kAnySequence);
  real_pthread_sigmask(SIG_SETMASK, &old, nullptr);
}


}  // namespace racetrap
