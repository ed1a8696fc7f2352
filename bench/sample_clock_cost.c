// sample_clock_cost.c — what one sampling signal costs a CPU-bound thread, by clock,
// by the program's working set and by how much memory the handler touches: the
// thread updates random words of a `ws` KiB table `iterations` times while SIGTRAP
// arrives every 2 ms of its CPU time from a POSIX CPU-time timer (fired at the
// scheduler tick), from a perf task clock with sigtrap (its own hrtimer interrupt),
// or not at all; the handler writes one byte per cache line of a `touch` KiB buffer
// (0: an empty handler). Prints the thread's CPU time and the signals received;
// bench/README.md has the per-signal cost (CPU over the no-clock run, divided by
// the signals). Runs without the preload.
//
//   sample_clock_cost none|timer|perf ws_kib iterations [touch_kib]
#include <linux/perf_event.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile long signals;
static volatile char* touched;
static long touch_bytes;

static void on_sigtrap(int sig, siginfo_t* info, void* ucontext) {
  (void)sig;
  (void)info;
  (void)ucontext;
  signals++;
  for (long i = 0; i < touch_bytes; i += 64) touched[i]++;
}

static double thread_cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int start_timer_clock(void) {
  struct sigevent ev;
  memset(&ev, 0, sizeof ev);
  ev.sigev_notify = SIGEV_THREAD_ID;
  ev.sigev_signo = SIGTRAP;
  ev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
  timer_t timer;
  if (timer_create(CLOCK_THREAD_CPUTIME_ID, &ev, &timer) != 0) return -1;
  struct itimerspec every = {{0, 2000000}, {0, 2000000}};
  return timer_settime(timer, 0, &every, NULL);
}

static int start_perf_clock(void) {
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_TASK_CLOCK;
  attr.sample_period = 2000000;  // ns of task clock
  attr.sigtrap = 1;
  attr.remove_on_exec = 1;
  return syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC) < 0 ? -1 : 0;
}

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: sample_clock_cost none|timer|perf ws_kib iterations [touch_kib]\n");
    return 2;
  }
  const char* clock = argv[1];
  const long words = atol(argv[2]) * 1024 / 8;
  const long iterations = atol(argv[3]);
  touch_bytes = argc > 4 ? atol(argv[4]) * 1024 : 0;
  touched = calloc(1, (size_t)touch_bytes + 64);
  uint64_t* table = calloc((size_t)(words > 0 ? words : 1), 8);
  if (touched == NULL || table == NULL || words <= 0) return 2;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_sigtrap;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigfillset(&sa.sa_mask);
  sigaction(SIGTRAP, &sa, NULL);
  int started = 0;
  if (strcmp(clock, "timer") == 0) started = start_timer_clock();
  else if (strcmp(clock, "perf") == 0) started = start_perf_clock();
  else if (strcmp(clock, "none") != 0) started = -1;
  if (started != 0) {
    perror(clock);
    return 1;
  }
  const double begin = thread_cpu_seconds();
  uint64_t x = 88172645463325252ull, sum = 0;
  for (long i = 0; i < iterations; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    uint64_t* word = &table[x % (uint64_t)words];
    sum += *word;
    *word = sum;
  }
  const double cpu = thread_cpu_seconds() - begin;
  printf("clock %s ws_kib %ld touch_kib %ld cpu_s %.4f signals %ld check %lu\n", clock, words * 8 / 1024,
         touch_bytes / 1024, cpu, signals, (unsigned long)(sum & 1));
  return 0;
}
