// many_threads_counter.c — 12 threads on 2 cores bump one shared event counter
// between stretches of private work, with no synchronization: a write-write race
// on one word among many threads.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "deadline.h"

#define THREADS 12

static volatile long events;
static double budget;

static void* worker(void* p) {
  struct deadline end = deadline_after(budget / 6);
  end.wall_end = clock_seconds(CLOCK_MONOTONIC) + 4 * budget;
  uint64_t h = (uint64_t)(uintptr_t)p + 1;
  while (before(&end)) {
    for (int i = 0; i < 64; i++) {
      for (int k = 0; k < 8; k++) h = h * 0x5851f42d4c957f2dull + 14057;
      events = events + 1;  // RACE
    }
  }
  return (void*)(uintptr_t)h;
}

int main(int argc, char** argv) {
  budget = argc > 1 ? atof(argv[1]) : 1.0;
  pthread_t t[THREADS];
  for (uintptr_t i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, worker, (void*)i);
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  printf("events %ld\n", events);
  return 0;
}
