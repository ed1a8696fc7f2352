// stack_object_thread_functor.cc — main keeps a statistics object on its own stack
// and hands it by reference to 4 std::thread functors (more threads than cores)
// that count into it with plain increments, while main reads it to print progress:
// the functors race with each other and with main on memory in main's stack.
// Usage: stack_object_thread_functor [SECONDS]: about SECONDS of wall time on all cores
// (the process uses SECONDS * cores of CPU time, capped at 8x SECONDS of wall time).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <thread>
#include <vector>

#include <unistd.h>

namespace {

double process_cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

// Until the process has used cpu_end seconds of CPU time or wall_end has passed.
struct Deadline {
  double cpu_end;
  std::chrono::steady_clock::time_point wall_end;
  bool passed() const { return process_cpu_seconds() >= cpu_end || std::chrono::steady_clock::now() >= wall_end; }
};

struct Stats {
  long items = 0;
  long odd = 0;
};

struct Counter {
  Stats& stats;
  Deadline end;
  uint64_t seed;
  void operator()() const {
    uint64_t x = seed | 1;
    while (!end.passed()) {
      for (int i = 0; i < 1024; ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        stats.items++;  // RACE
        if (x & 1) stats.odd++;  // RACE
      }
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 1.0;
  const long cores = std::max(1L, sysconf(_SC_NPROCESSORS_ONLN));
  const Deadline end{process_cpu_seconds() + seconds * static_cast<double>(cores),
                     std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                            std::chrono::duration<double>(8 * seconds))};
  Stats stats;  // on main's stack, shared by reference
  std::vector<std::thread> threads;
  for (uint64_t i = 0; i < 4; ++i) threads.emplace_back(Counter{stats, end, 0x9e3779b97f4a7c15ull * (i + 1)});
  long last = 0, reports = 0;
  while (!end.passed()) {
    const long items = stats.items;  // RACE
    if (items - last > 1000000) {
      last = items;
      ++reports;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  for (std::thread& t : threads) t.join();
  std::printf("%ld items, %ld odd, %ld progress reports\n", stats.items, stats.odd, reports);
  return 0;
}
