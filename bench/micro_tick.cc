// micro_tick.cc — fixed CPU work, for the cost of one timer signal / sampling tick /
// trap, computed by bench/micro from runs of this program:
//
//   micro_tick tick 0        the work alone (one thread)
//   micro_tick tick US       the work with its own task-clock SIGTRAP every US
//                            microseconds of CPU time and an empty handler: a bare
//                            synchronous signal (run without the preload)
//   micro_tick tick 0        under LD_PRELOAD with RACETRAP_SAMPLE_US=US: a full
//                            sampling tick (signal + decode + stack + publish)
//   micro_tick trap 0        two threads racing on one word, both on one CPU
//                            (natively / under the preload: every sample there
//                            leads to a trap)
//
// Prints "cpu_ns=N signals=S" (process CPU time; S counts only its own signals).
#include <fcntl.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

constexpr long kIterations = 200'000'000;  // about 0.5 s of CPU
alignas(64) volatile uint64_t shared_a, shared_b, shared_c;  // RIP-relative: decodable from every pc
alignas(64) volatile uint64_t racy_word;
std::atomic<uint64_t> signals{0};

void count_signal(int, siginfo_t*, void*) { signals.fetch_add(1, std::memory_order_relaxed); }

int open_bare_clock(uint64_t period_us) {
  struct sigaction act;
  std::memset(&act, 0, sizeof act);
  act.sa_sigaction = count_signal;
  act.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&act.sa_mask);
  sigaction(SIGTRAP, &act, nullptr);
  perf_event_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_TASK_CLOCK;
  attr.sample_period = period_us * 1000;
  attr.exclude_kernel = 1;
  attr.exclude_hv = 1;
  attr.sigtrap = 1;
  attr.remove_on_exec = 1;
  attr.sig_data = 7;  // not racetrap's tag
  return static_cast<int>(syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC));
}

__attribute__((noinline)) uint64_t work(long n) {
  uint64_t h = 88172645463325252ull;
  for (long i = 0; i < n; ++i) {
    h ^= h << 13;
    shared_a = h;  // accesses to shared (global) memory, so a sample always has
    h ^= h >> 7;   // one to decode and publish
    shared_b = shared_b + h;
    h ^= h << 17;
    shared_c = h;
  }
  return h;
}

__attribute__((noinline)) void* racy_work(void*) {
  for (long i = 0; i < kIterations / 2; ++i) racy_word = racy_word + 1;
  return nullptr;
}

uint64_t process_cpu_ns() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "tick";
  const long bare_us = argc > 2 ? std::atol(argv[2]) : 0;
  const uint64_t start = process_cpu_ns();
  if (std::strcmp(mode, "trap") == 0) {
    // Both threads on one CPU: they still interleave (time slices) and race, but
    // the word's cache line never bounces between cores. Otherwise the native run's
    // CPU time is mostly that bouncing, and racetrap's signals, which break the
    // threads' overlap, can make the preloaded run cheaper than the native one.
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(sched_getcpu(), &one);
    sched_setaffinity(0, sizeof(one), &one);
    pthread_t a, b;
    pthread_create(&a, nullptr, racy_work, nullptr);
    pthread_create(&b, nullptr, racy_work, nullptr);
    pthread_join(a, nullptr);
    pthread_join(b, nullptr);
  } else {
    // racetrap samples a process from its first pthread_create on (a process with
    // one thread cannot race): one empty thread, natively too, so the work below
    // is sampled under the preload.
    pthread_t idle;
    pthread_create(&idle, nullptr, [](void*) -> void* { return nullptr; }, nullptr);
    pthread_join(idle, nullptr);
    int fd = bare_us > 0 ? open_bare_clock(static_cast<uint64_t>(bare_us)) : -1;
    if (bare_us > 0 && fd < 0) {
      std::perror("perf_event_open(task clock)");
      return 1;
    }
    uint64_t h = work(kIterations);
    if (fd >= 0) close(fd);
    if (h == 42) std::puts("");
  }
  std::printf("cpu_ns=%llu signals=%llu\n", static_cast<unsigned long long>(process_cpu_ns() - start),
              static_cast<unsigned long long>(signals.load()));
  return 0;
}
