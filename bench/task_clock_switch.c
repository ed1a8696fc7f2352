// task_clock_switch.c — what a sampling clock on a thread costs that thread at its
// context switches: COUNT times create an empty thread and join it (the creator
// blocks once per thread, as bench/thread_churn), with the creating thread's clock
// in one of these modes, and print the wall and CPU time per thread:
//   none        no clock
//   counting    a counting perf task clock (no sample period)
//   sampling    a sampling perf task clock of PERIOD_US (default 2000, racetrap's
//               default) with sigtrap, its SIGTRAPs handled by an empty handler
//   inherit     the same clock opened inheritable (inherit + inherit_thread): each
//               child starts with a copy of it from its clone
//   first-tick  `sampling`, and each child arms a one-shot CPU-time timer of
//               PERIOD_US (timer_create + timer_settime) and deletes it at its end
//   cputimer    a periodic POSIX CPU-time timer of PERIOD_US on the creator instead
//               of a perf clock (SIGTRAP to the creator)
// The kernel starts a sampling perf clock's hrtimer when its thread is switched in
// and cancels it when it is switched out (bench/timer_reprogram: what that costs
// when the hrtimer is the CPU's earliest); a POSIX CPU-time timer is checked at the
// scheduler tick instead. With WORK (thousands of register-and-memory loop
// iterations in user mode before each creation) it also prints how often the
// creator was sampled per second of its own CPU time: run it under `taskset -c 1`
// to see the kernel hand an inherited clock's creator its child's fresh copy at
// each switch to that child (`inherit`: almost no samples). Runs without the
// preload. Race-free.
//
//   task_clock_switch MODE [count] [period_us] [work]
#include <linux/perf_event.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long period_us = 2000;
static int child_timer;
static pid_t creator_tid;
static volatile long creator_samples;
static volatile unsigned long work_sink;

static void on_trap(int sig) {
  (void)sig;
  if ((pid_t)syscall(SYS_gettid) == creator_tid) creator_samples++;
}

static struct itimerspec period_spec(int periodic) {
  struct itimerspec when;
  memset(&when, 0, sizeof when);
  when.it_value.tv_sec = period_us / 1000000;
  when.it_value.tv_nsec = (period_us % 1000000) * 1000;
  if (periodic) when.it_interval = when.it_value;
  return when;
}

// A CPU-time timer on the calling thread sending it SIGTRAP; -1 when it failed.
static int cpu_timer(timer_t* timer, int periodic) {
  struct sigevent ev;
  memset(&ev, 0, sizeof ev);
  ev.sigev_notify = SIGEV_THREAD_ID;
  ev.sigev_signo = SIGTRAP;
  ev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
  if (timer_create(CLOCK_THREAD_CPUTIME_ID, &ev, timer) != 0) return -1;
  struct itimerspec when = period_spec(periodic);
  return timer_settime(*timer, 0, &when, NULL);
}

static void* nothing(void* arg) {
  if (child_timer) {
    timer_t timer;
    if (cpu_timer(&timer, 0) == 0) timer_delete(timer);
  }
  return arg;
}

static int open_task_clock(int sampling, int inherit) {
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_TASK_CLOCK;
  attr.exclude_kernel = 1;
  attr.exclude_hv = 1;
  attr.inherit = inherit;
  attr.inherit_thread = inherit;
  if (sampling) {
    attr.sample_period = (unsigned long long)period_us * 1000;
    attr.sigtrap = 1;
    attr.remove_on_exec = 1;
  }
  return (int)syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
}

static double seconds(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "sampling";
  int count = argc > 2 ? atoi(argv[2]) : 20000;
  if (argc > 3) period_us = atol(argv[3]);
  long work = argc > 4 ? atol(argv[4]) * 1000 : 0;
  creator_tid = (pid_t)syscall(SYS_gettid);
  signal(SIGTRAP, on_trap);
  int ok = 0;
  if (strcmp(mode, "none") == 0) {
    ok = 1;
  } else if (strcmp(mode, "counting") == 0) {
    ok = open_task_clock(0, 0) >= 0;
  } else if (strcmp(mode, "sampling") == 0) {
    ok = open_task_clock(1, 0) >= 0;
  } else if (strcmp(mode, "inherit") == 0) {
    ok = open_task_clock(1, 1) >= 0;
  } else if (strcmp(mode, "first-tick") == 0) {
    ok = open_task_clock(1, 0) >= 0;
    child_timer = 1;
  } else if (strcmp(mode, "cputimer") == 0) {
    timer_t timer;
    ok = cpu_timer(&timer, 1) == 0;
  } else {
    fprintf(stderr, "task_clock_switch: unknown mode %s\n", mode);
    return 2;
  }
  if (!ok) {
    perror(mode);
    return 1;
  }
  double wall = seconds(CLOCK_MONOTONIC), cpu = seconds(CLOCK_PROCESS_CPUTIME_ID);
  double creator_cpu = seconds(CLOCK_THREAD_CPUTIME_ID);
  for (int i = 0; i < count; ++i) {
    for (long k = 0; k < work; ++k) work_sink = work_sink + (unsigned long)k;
    pthread_t t;
    if (pthread_create(&t, NULL, nothing, NULL) != 0) {
      perror("pthread_create");
      return 1;
    }
    pthread_join(t, NULL);
  }
  wall = seconds(CLOCK_MONOTONIC) - wall;
  cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu;
  creator_cpu = seconds(CLOCK_THREAD_CPUTIME_ID) - creator_cpu;
  printf("%s %ld us: %.2f us wall, %.2f us CPU per thread", mode, period_us, wall / count * 1e6, cpu / count * 1e6);
  if (work > 0)
    printf("; creator sampled %ld times in %.3f s of its CPU (%.0f per s)", creator_samples, creator_cpu,
           creator_samples / creator_cpu);
  printf("\n");
  return 0;
}
