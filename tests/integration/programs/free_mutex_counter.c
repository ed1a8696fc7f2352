// free_mutex_counter.c — race-free: three threads increment shared counters, always
// under the same mutex.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "deadline.h"

#define THREADS 3

static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static long per_thread_max[THREADS];

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
