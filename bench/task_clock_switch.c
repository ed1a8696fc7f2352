// task_clock_switch.c — what a perf task clock on a thread costs that thread at its
// context switches: COUNT times create an empty thread and join it (the creator
// blocks once per thread, as bench/thread_churn), with a task-clock event on the
// creating thread in one of these modes, and print the wall and CPU time per thread:
//   none      no event
//   counting  a counting task clock (no sample period)
//   sampling  a sampling task clock of PERIOD_US (default 2000, racetrap's default)
//             with sigtrap, its SIGTRAPs handled by an empty handler
// The kernel starts the sampling clock's hrtimer when the thread is switched in
// and cancels it when it is switched out; racetrap's sampling clock costs its
// thread exactly this. Runs without the preload. Race-free.
//
//   task_clock_switch none|counting|sampling [count] [period_us]
#include <linux/perf_event.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void* nothing(void* arg) { return arg; }
static void ignore(int sig) { (void)sig; }

static double seconds(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "sampling";
  int count = argc > 2 ? atoi(argv[2]) : 20000;
  long period_us = argc > 3 ? atol(argv[3]) : 2000;
  signal(SIGTRAP, ignore);
  if (strcmp(mode, "none") != 0) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_TASK_CLOCK;
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    if (strcmp(mode, "sampling") == 0) {
      attr.sample_period = (unsigned long long)period_us * 1000;
      attr.sigtrap = 1;
      attr.remove_on_exec = 1;
    }
    if (syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0) < 0) {
      perror("perf_event_open");
      return 1;
    }
  }
  double wall = seconds(CLOCK_MONOTONIC), cpu = seconds(CLOCK_PROCESS_CPUTIME_ID);
  for (int i = 0; i < count; ++i) {
    pthread_t t;
    if (pthread_create(&t, NULL, nothing, NULL) != 0) {
      perror("pthread_create");
      return 1;
    }
    pthread_join(t, NULL);
  }
  wall = seconds(CLOCK_MONOTONIC) - wall;
  cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu;
  printf("%s %ld us: %.2f us wall, %.2f us CPU per thread\n", mode, strcmp(mode, "sampling") == 0 ? period_us : 0L,
         wall / count * 1e6, cpu / count * 1e6);
  return 0;
}
