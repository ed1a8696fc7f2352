// histogram_16_threads.c — 16 threads on a 2-core machine increment a shared
// 64-bucket histogram with plain read-modify-writes: a write-write race on every
// bucket. Each thread gets 1/8 of the CPU time budget, so the whole run takes
// about as long on 2 cores as the 2-thread programs.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "deadline.h"

#define THREADS 16
#define BUCKETS 64

static volatile long histogram[BUCKETS];
static double budget;

static void* worker(void* p) {
  struct deadline end = deadline_after(budget / 8);
  end.wall_end = clock_seconds(CLOCK_MONOTONIC) + 4 * budget;
  uint64_t h = (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ull + 1;
  while (before(&end)) {
    for (int i = 0; i < 256; i++) {
      h ^= h << 13;
      h ^= h >> 7;
      h ^= h << 17;
      histogram[h % BUCKETS]++;  // RACE
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
  for (int i = 0; i < BUCKETS; i++) total += histogram[i];
  printf("total %ld\n", total);
  return 0;
}
