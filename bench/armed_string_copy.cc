// armed_string_copy.cc — what an armed debug register does to a thread's string
// copies, and what racetrap's copies without fast-string instructions
// (lib/engine/plain_string_ops.h) give instead. Runs without the preload.
//
//   armed_string_copy [REGISTERS]   (default 1)
//
// For each size, GB/s of glibc's memcpy and memset and of plain_memcpy and
// plain_memset, first with no breakpoint, then with REGISTERS data breakpoints of
// this thread enabled on a word the copies never touch (perf_event_open
// PERF_TYPE_BREAKPOINT, as racetrap arms them). Thread CPU time, best of 5.
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "plain_string_ops.h"

namespace {

alignas(64) volatile uint64_t watched_word;

double thread_cpu_s() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

bool arm_breakpoint() {
  perf_event_attr a;
  std::memset(&a, 0, sizeof a);
  a.size = sizeof a;
  a.type = PERF_TYPE_BREAKPOINT;
  a.bp_type = HW_BREAKPOINT_W;
  a.bp_addr = reinterpret_cast<uint64_t>(&watched_word);
  a.bp_len = 8;
  a.sample_period = 1;
  a.exclude_kernel = 1;
  a.exclude_hv = 1;
  return syscall(SYS_perf_event_open, &a, 0, -1, -1, 0) >= 0;
}

// GB/s of `op` over copies of `size` bytes, about 256 MiB moved per try, best of 5.
template <typename Op>
double rate(size_t size, Op op) {
  const long rounds = static_cast<long>((256u << 20) / size) + 1;
  double best = 1e30;
  for (int attempt = 0; attempt < 5; ++attempt) {
    const double start = thread_cpu_s();
    for (long i = 0; i < rounds; ++i) {
      op();
      asm volatile("" ::: "memory");
    }
    const double took = thread_cpu_s() - start;
    if (took < best) best = took;
  }
  return static_cast<double>(size) * static_cast<double>(rounds) / best / 1e9;
}

void table(const char* title, unsigned char* src, unsigned char* dst) {
  std::printf("%s\n| size | memcpy | plain_memcpy | memset | plain_memset |\n|---|---|---|---|---|\n", title);
  const size_t sizes[] = {1024, 2048, 4096, 16384, 65536, 262144, 1u << 20, 8u << 20};
  for (size_t n : sizes) {
    const double libc_copy = rate(n, [&] { std::memcpy(dst, src, n); });
    const double plain_copy = rate(n, [&] { racetrap::plain_memcpy(dst, src, n); });
    const double libc_set = rate(n, [&] { std::memset(dst, 7, n); });
    const double plain_set = rate(n, [&] { racetrap::plain_memset(dst, 7, n); });
    std::printf("| %zu | %.1f | %.1f | %.1f | %.1f |\n", n, libc_copy, plain_copy, libc_set, plain_set);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int registers = argc > 1 ? std::atoi(argv[1]) : 1;
  const size_t max = 8u << 20;
  auto* src = static_cast<unsigned char*>(std::aligned_alloc(4096, max));
  auto* dst = static_cast<unsigned char*>(std::aligned_alloc(4096, max));
  std::memset(src, 1, max);
  std::memset(dst, 2, max);
  table("GB/s (thread CPU time), no breakpoint:", src, dst);
  for (int i = 0; i < registers; ++i) {
    if (!arm_breakpoint()) {
      std::perror("perf_event_open(breakpoint)");
      return 1;
    }
  }
  std::printf("\n");
  char title[96];
  std::snprintf(title, sizeof title, "GB/s (thread CPU time), %d data breakpoint(s) armed:", registers);
  table(title, src, dst);
  return 0;
}
