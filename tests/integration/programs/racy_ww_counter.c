// racy_ww_counter.c — write-write race: two threads increment one long counter
// without any synchronization.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile long counter;

static double clock_seconds(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

// The loop runs until the calling thread has used `seconds` of CPU time (so a loaded machine
// still gets the same amount of work, hence the same number of samples), but
// never longer than 4x that in wall time. The clocks are read only every 64th
// call (reading a CPU-time clock is a system call).
struct deadline {
  double cpu_end, wall_end;
  unsigned countdown;
};

static struct deadline deadline_after(double seconds) {
  struct deadline d = {clock_seconds(CLOCK_THREAD_CPUTIME_ID) + seconds,
                       clock_seconds(CLOCK_MONOTONIC) + 4 * seconds, 0};
  return d;
}

static int before(struct deadline* d) {
  if (d->countdown-- > 0) return 1;
  d->countdown = 63;
  return clock_seconds(CLOCK_THREAD_CPUTIME_ID) < d->cpu_end &&
         clock_seconds(CLOCK_MONOTONIC) < d->wall_end;
}

static void* increment_counter(void* arg) {
  struct deadline end = deadline_after(*(const double*)arg);
  while (before(&end)) {
    for (int i = 0; i < 1000; i++) {
      counter = counter + 1;  // RACE
    }
  }
  return NULL;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  pthread_t a, b;
  pthread_create(&a, NULL, increment_counter, &seconds);
  pthread_create(&b, NULL, increment_counter, &seconds);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("counter = %ld\n", counter);
  return 0;
}
