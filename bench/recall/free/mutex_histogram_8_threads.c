// mutex_histogram_8_threads.c — race-free: 8 threads on 2 cores increment a shared
// 64-bucket histogram, every increment under one pthread mutex.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "deadline.h"

#define THREADS 8

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long histogram[64];
static double budget;

static void* worker(void* p) {
  struct deadline end = deadline_after(budget / 4);
  end.wall_end = clock_seconds(CLOCK_MONOTONIC) + 4 * budget;
  uint64_t h = (uint64_t)(uintptr_t)p + 1;
  while (before(&end)) {
    for (int i = 0; i < 64; i++) {
      for (int k = 0; k < 8; k++) h = h * 6364136223846793005ull + 1442695040888963407ull;
      pthread_mutex_lock(&lock);
      histogram[h >> 58]++;
      pthread_mutex_unlock(&lock);
    }
  }
  return NULL;
}

int main(int argc, char** argv) {
  budget = argc > 1 ? atof(argv[1]) : 1.0;
  pthread_t t[THREADS];
  for (uintptr_t i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, worker, (void*)i);
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  long total = 0;
  for (int i = 0; i < 64; i++) total += histogram[i];
  printf("total %ld\n", total);
  return 0;
}
