// unwind_fork_gate.cc — see unwind_fork_gate.h.
#include "unwind_fork_gate.h"

#include <sched.h>
#include <time.h>

#include <cstdint>

#include <atomic>

#include "signal_safety.h"
#include "vdso_clock.h"

namespace racetrap {
namespace {

std::atomic<int> g_unwinds_in_progress{0};
std::atomic<bool> g_fork_waiting{false};
// An unwind was in progress when the fork went ahead: only the child reads it.
std::atomic<bool> g_unwind_left_in_progress{false};
// The child of such a fork: libunwind's locks may be held by a thread that is gone.
std::atomic<bool> g_unwinding_unsafe{false};
// This thread's unwinds in progress: a fork from a signal handler that interrupted
// one of them (fork is async-signal-safe) does not wait for it.
__attribute__((tls_model("initial-exec"))) thread_local int t_unwinds_in_progress = 0;

constexpr uint64_t kWaitLimitNs = 2'000'000'000;  // then the fork goes ahead
constexpr int kYieldRounds = 200;
constexpr long kSleepStepNs = 200'000;

}  // namespace

// signal-safe. The count goes up before the gate is read, and the fork closes the
// gate before it reads the count (both sequentially consistent): either the fork
// sees this unwind and waits for it, or this unwind sees the closed gate and backs out.
bool begin_unwind() {
  if (g_unwinding_unsafe.load(std::memory_order_relaxed)) return false;
  g_unwinds_in_progress.fetch_add(1, std::memory_order_seq_cst);
  if (g_fork_waiting.load(std::memory_order_seq_cst)) {
    g_unwinds_in_progress.fetch_sub(1, std::memory_order_release);
    return false;
  }
  ++t_unwinds_in_progress;
  return true;
}

// signal-safe.
void end_unwind() {
  --t_unwinds_in_progress;
  g_unwinds_in_progress.fetch_sub(1, std::memory_order_release);
}

void close_unwind_gate_for_fork() {
  g_fork_waiting.store(true, std::memory_order_seq_cst);
  const uint64_t start = monotonic_ns();
  for (int round = 0;; ++round) {
    if (g_unwinds_in_progress.load(std::memory_order_seq_cst) <= t_unwinds_in_progress) {
      g_unwind_left_in_progress.store(false, std::memory_order_relaxed);
      return;
    }
    if (monotonic_ns() - start > kWaitLimitNs) break;
    // An unwind takes microseconds: yield first, sleep if it is held up longer
    // (its thread preempted on a loaded machine).
    if (round < kYieldRounds) {
      raw_sched_yield();
    } else {
      timespec step{0, kSleepStepNs};
      nanosleep(&step, nullptr);
    }
  }
  g_unwind_left_in_progress.store(true, std::memory_order_relaxed);
}

void open_unwind_gate_in_parent() { g_fork_waiting.store(false, std::memory_order_release); }

void open_unwind_gate_in_child() {
  g_unwinds_in_progress.store(t_unwinds_in_progress, std::memory_order_relaxed);
  if (g_unwind_left_in_progress.load(std::memory_order_relaxed))
    g_unwinding_unsafe.store(true, std::memory_order_relaxed);
  g_fork_waiting.store(false, std::memory_order_release);
}

}  // namespace racetrap
