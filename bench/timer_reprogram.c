// timer_reprogram.c — what starting and cancelling an hrtimer costs when it becomes
// the CPU's earliest timer (the kernel then reprograms the clock-event device: on a
// VM with a TSC-deadline local APIC, a write to an MSR that exits to the host)
// against one that expires after the next scheduler tick (queued only). A sampling
// perf task clock does exactly this at each switch of its thread (bench/
// task_clock_switch). COUNT times arm a timerfd DELAY_NS ahead and disarm it; prints
// the time per arm + disarm, for DELAY_NS = 100 us (the earliest) and 10 s (never).
//
//   timer_reprogram [count]
#include <stdio.h>
#include <stdlib.h>
#include <sys/timerfd.h>
#include <time.h>

static double seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double arm_and_disarm(int fd, long long delay_ns, int count) {
  struct itimerspec on = {{0, 0}, {(time_t)(delay_ns / 1000000000), (long)(delay_ns % 1000000000)}};
  struct itimerspec off = {{0, 0}, {0, 0}};
  double start = seconds();
  for (int i = 0; i < count; ++i) {
    timerfd_settime(fd, 0, &on, NULL);
    timerfd_settime(fd, 0, &off, NULL);
  }
  return (seconds() - start) / count * 1e6;
}

int main(int argc, char** argv) {
  int count = argc > 1 ? atoi(argv[1]) : 200000;
  int fd = timerfd_create(CLOCK_MONOTONIC, 0);
  if (fd < 0) {
    perror("timerfd_create");
    return 1;
  }
  double earliest = arm_and_disarm(fd, 100000, count);
  double queued = arm_and_disarm(fd, 10000000000LL, count);
  printf("arm + disarm: %.2f us as the earliest timer (100 us), %.2f us queued (10 s): %.2f us per reprogram pair\n",
         earliest, queued, earliest - queued);
  return 0;
}
