// free_mutex_counter.c — race-free: three threads increment shared counters, always
// under the same mutex.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define THREADS 3

static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static long per_thread_max[THREADS];

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

struct worker_args {
  int index;
  double seconds;
};

static void* increment_locked(void* arg) {
  const struct worker_args* w = arg;
  struct deadline end = deadline_after(w->seconds);
  while (before(&end)) {
    for (int i = 0; i < 1000; i++) {
      pthread_mutex_lock(&counter_lock);
      long now = ++counter;
      if (now > per_thread_max[w->index]) per_thread_max[w->index] = now;
      pthread_mutex_unlock(&counter_lock);
    }
  }
  return NULL;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  pthread_t threads[THREADS];
  struct worker_args args[THREADS];
  for (int i = 0; i < THREADS; i++) {
    args[i] = (struct worker_args){i, seconds};
    pthread_create(&threads[i], NULL, increment_locked, &args[i]);
  }
  for (int i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
  long best = 0;
  for (int i = 0; i < THREADS; i++)
    if (per_thread_max[i] > best) best = per_thread_max[i];
  printf("counter = %ld (max seen %ld)\n", counter, best);
  return counter == best ? 0 : 1;
}
