// racy_wrong_lock.c — each thread dutifully takes a mutex around the counter, but
// not the same one, so the increments are not ordered.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static long shared_total;

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
  pthread_mutex_t* lock;
  double seconds;
};

static void* add_under_lock(void* arg) {
  const struct worker_args* w = arg;
  struct deadline end = deadline_after(w->seconds);
  while (before(&end)) {
    for (int i = 0; i < 100; i++) {
      pthread_mutex_lock(w->lock);
      shared_total += i;  // RACE
      pthread_mutex_unlock(w->lock);
    }
  }
  return NULL;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  struct worker_args wa = {&lock_a, seconds}, wb = {&lock_b, seconds};
  pthread_t a, b;
  pthread_create(&a, NULL, add_under_lock, &wa);
  pthread_create(&b, NULL, add_under_lock, &wb);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("total = %ld\n", shared_total);
  return 0;
}
