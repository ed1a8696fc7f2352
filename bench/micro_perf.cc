// micro_perf.cc — what the kernel charges for the operations racetrap is built on.
//
// * Re-pointing a hardware breakpoint in place with PERF_EVENT_IOC_MODIFY_ATTRIBUTES
//   vs closing it and opening a new one: both with a ring buffer mmapped and
//   unmapped (what the kernel patch behind the ioctl compared) and without (what
//   racetrap's BreakpointSlot fallback does). Each both when the breakpoint never
//   fires and when it fires (SIGTRAP) every time.
// * A bare synchronous signal: raise(SIGTRAP) with an empty handler.
//
// bench/micro runs this with --benchmark_format=json and prints the ratios.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "perf_events.h"

namespace {

alignas(64) volatile uint64_t watched[16];  // the breakpoints point here
std::atomic<uint64_t> trap_count{0};

void on_trap(int, siginfo_t*, void*) { trap_count.fetch_add(1, std::memory_order_relaxed); }
void empty_handler(int) {}

void install(int sig, bool siginfo) {
  struct sigaction act;
  std::memset(&act, 0, sizeof act);
  if (siginfo) {
    act.sa_sigaction = on_trap;
    act.sa_flags = SA_SIGINFO | SA_RESTART;
  } else {
    act.sa_handler = empty_handler;
    act.sa_flags = SA_RESTART;
  }
  sigemptyset(&act.sa_mask);
  sigaction(sig, &act, nullptr);
}

// The attributes racetrap itself uses (lib/engine/perf_events.h): a one-shot-per-access
// write breakpoint of the calling thread that sends SIGTRAP synchronously.
perf_event_attr bp_attr(const volatile void* addr, bool disabled) {
  return racetrap::breakpoint_attr(0, reinterpret_cast<uint64_t>(addr), 8, racetrap::BreakpointType::kWrite, 0,
                                   disabled);
}

int open_bp(perf_event_attr* attr) {
  return static_cast<int>(syscall(SYS_perf_event_open, attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC));
}

// A breakpoint on watched[0] for the benchmark, or -1 after marking it skipped.
int open_first_bp(benchmark::State& state) {
  perf_event_attr attr = bp_attr(&watched[0], false);
  int fd = open_bp(&attr);
  if (fd < 0) state.SkipWithError("perf_event_open of a breakpoint failed");
  return fd;
}

const size_t kRingBytes = static_cast<size_t>(sysconf(_SC_PAGESIZE)) * 2;  // header + 1 data page

enum Mode { kModify, kReopen, kReopenMmap };

// One re-point per iteration, alternating between two words; with `trap`, the
// watched word is then written, which fires the breakpoint (one SIGTRAP).
void run(benchmark::State& state, Mode mode, bool trap) {
  install(SIGTRAP, true);
  int fd = open_first_bp(state);
  if (fd < 0) return;
  void* ring = nullptr;
  if (mode == kReopenMmap) ring = mmap(nullptr, kRingBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  uint64_t i = 0;
  trap_count = 0;
  for (auto _ : state) {
    const volatile uint64_t* target = &watched[(++i & 1) * 8];
    perf_event_attr attr = bp_attr(target, false);
    if (mode == kModify) {
      if (ioctl(fd, PERF_EVENT_IOC_MODIFY_ATTRIBUTES, &attr) != 0) {
        state.SkipWithError("PERF_EVENT_IOC_MODIFY_ATTRIBUTES failed");
        break;
      }
    } else {
      if (ring != nullptr && ring != MAP_FAILED) munmap(ring, kRingBytes);
      close(fd);
      fd = open_bp(&attr);
      if (fd < 0) {
        state.SkipWithError("perf_event_open failed");
        break;
      }
      if (mode == kReopenMmap) {
        ring = mmap(nullptr, kRingBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (ring == MAP_FAILED) {
          state.SkipWithError("mmap of the ring buffer failed");
          break;
        }
      }
    }
    if (trap) *const_cast<volatile uint64_t*>(target) = i;
  }
  state.counters["traps_per_iter"] =
      benchmark::Counter(static_cast<double>(trap_count.load()), benchmark::Counter::kAvgIterations);
  if (ring != nullptr && ring != MAP_FAILED) munmap(ring, kRingBytes);
  if (fd >= 0) close(fd);
}

void BM_Modify_NoTrap(benchmark::State& s) { run(s, kModify, false); }
void BM_Reopen_NoTrap(benchmark::State& s) { run(s, kReopen, false); }
void BM_ReopenMmap_NoTrap(benchmark::State& s) { run(s, kReopenMmap, false); }
void BM_Modify_Trap(benchmark::State& s) { run(s, kModify, true); }
void BM_Reopen_Trap(benchmark::State& s) { run(s, kReopen, true); }
void BM_ReopenMmap_Trap(benchmark::State& s) { run(s, kReopenMmap, true); }

// A breakpoint that fires on every write, never re-pointed: the kernel's cost of
// one data-breakpoint SIGTRAP (the floor under racetrap's trap).
void BM_BreakpointSignal(benchmark::State& state) {
  install(SIGTRAP, true);
  int fd = open_first_bp(state);
  if (fd < 0) return;
  trap_count = 0;
  uint64_t i = 0;
  for (auto _ : state) watched[0] = ++i;
  state.counters["traps_per_iter"] =
      benchmark::Counter(static_cast<double>(trap_count.load()), benchmark::Counter::kAvgIterations);
  close(fd);
}

// A bare synchronous signal: raise() -> kernel -> empty handler -> sigreturn.
void BM_RaiseEmptyHandler(benchmark::State& state) {
  install(SIGUSR1, false);
  for (auto _ : state) raise(SIGUSR1);
}

BENCHMARK(BM_Modify_NoTrap);
BENCHMARK(BM_Reopen_NoTrap);
BENCHMARK(BM_ReopenMmap_NoTrap);
BENCHMARK(BM_Modify_Trap);
BENCHMARK(BM_Reopen_Trap);
BENCHMARK(BM_ReopenMmap_Trap);
BENCHMARK(BM_BreakpointSignal);
BENCHMARK(BM_RaiseEmptyHandler);

}  // namespace

BENCHMARK_MAIN();
