// lock_cost — nanoseconds per uncontended lock/unlock pair, for measuring what
// lock tracking (lock-order graph + misuse checks) adds to the interposers:
//   lock_cost [iterations]
// prints three lines: a single mutex, a mutex taken while holding another (the
// nested path: one known edge), and an rwlock write lock. Run it plain, under
// the preload with RACETRAP_DETECT_DEADLOCKS=0 RACETRAP_REPORT_MISUSE=0, and
// under the preload with both on (the default); RACETRAP_SAMPLE_US=10000000
// keeps samples out of the measurement.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static pthread_mutex_t outer = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t inner = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char** argv) {
  long n = argc > 1 ? atol(argv[1]) : 5000000;
  for (int round = 0; round < 2; ++round) {  // the first round warms up
    double t0 = now_ns();
    for (long i = 0; i < n; ++i) {
      pthread_mutex_lock(&inner);
      pthread_mutex_unlock(&inner);
    }
    double t1 = now_ns();
    pthread_mutex_lock(&outer);
    for (long i = 0; i < n; ++i) {
      pthread_mutex_lock(&inner);
      pthread_mutex_unlock(&inner);
    }
    pthread_mutex_unlock(&outer);
    double t2 = now_ns();
    for (long i = 0; i < n; ++i) {
      pthread_rwlock_wrlock(&rw);
      pthread_rwlock_unlock(&rw);
    }
    double t3 = now_ns();
    if (round == 1) {
      printf("mutex lock/unlock:          %.1f ns\n", (t1 - t0) / n);
      printf("nested mutex lock/unlock:   %.1f ns\n", (t2 - t1) / n);
      printf("rwlock wrlock/unlock:       %.1f ns\n", (t3 - t2) / n);
    }
  }
  return 0;
}
