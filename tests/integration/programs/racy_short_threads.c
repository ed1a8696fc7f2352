// racy_short_threads.c — a race between threads that each live less than one
// sampling period of CPU time. Every round main starts a worker and then joins the
// one it started the round before, so each worker overlaps the next; each adds to
// a shared counter, without a lock, for half a period of its own CPU time (the
// second argument, in microseconds of CPU). A new thread's first tick comes after
// a random part of a period (first_tick_timer.h), so these workers are sampled
// with odds that grow with their CPU time: a watch one of them publishes is armed
// by the worker it overlaps, at that one's start or its next acquire of a lock of
// its own (it is not ordered after the sampled one: main joins each worker after
// creating the next). Were the first tick a whole period away, none of them would
// ever be sampled.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "deadline.h"

static volatile long counter;
static double work_seconds = 0.001;

static void* add_for_a_while(void* arg) {
  (void)arg;
  // The worker's own lock, which orders nothing between workers: each acquire brings
  // its debug registers up to date with the watches published since its start (a
  // thread that has not ticked yet arms only at its start and its acquires).
  pthread_mutex_t own = PTHREAD_MUTEX_INITIALIZER;
  const double end = clock_seconds(CLOCK_THREAD_CPUTIME_ID) + work_seconds;
  do {
    pthread_mutex_lock(&own);
    pthread_mutex_unlock(&own);
    for (int i = 0; i < 200; i++) {
      counter = counter + 1;  // RACE
    }
  } while (clock_seconds(CLOCK_THREAD_CPUTIME_ID) < end);
  return NULL;
}

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  if (argc > 2 && atoi(argv[2]) > 0) work_seconds = atoi(argv[2]) / 1e6;
  // Main blocks in its joins: the run lasts `seconds` of wall time.
  const double end = clock_seconds(CLOCK_MONOTONIC) + seconds;
  pthread_t previous;
  int workers = 0;
  if (pthread_create(&previous, NULL, add_for_a_while, NULL) != 0) return 1;
  while (clock_seconds(CLOCK_MONOTONIC) < end) {
    pthread_t next;
    if (pthread_create(&next, NULL, add_for_a_while, NULL) != 0) return 1;
    pthread_join(previous, NULL);
    previous = next;
    workers++;
  }
  pthread_join(previous, NULL);
  printf("%d workers, counter = %ld\n", workers + 1, counter);
  return 0;
}
