// histogram_8_threads_bytes.c — 8 threads on 2 cores count byte values of their
// own private buffers into a shared 256-entry histogram of 32-bit counters with
// plain increments: a write-write race on every bucket.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "deadline.h"

#define THREADS 8

static volatile uint32_t byte_counts[256];
static double budget;

static void* worker(void* p) {
  unsigned char* data = malloc(4096);
  uint64_t h = (uint64_t)(uintptr_t)p + 17;
  for (int i = 0; i < 4096; i++) {
    h = h * 6364136223846793005ull + 1;
    data[i] = (unsigned char)(h >> 56);
  }
  struct deadline end = deadline_after(budget / 4);
  end.wall_end = clock_seconds(CLOCK_MONOTONIC) + 4 * budget;
  while (before(&end)) {
    for (int i = 0; i < 4096; i++) byte_counts[data[i]]++;  // RACE
  }
  free(data);
  return NULL;
}

int main(int argc, char** argv) {
  budget = argc > 1 ? atof(argv[1]) : 1.0;
  pthread_t t[THREADS];
  for (uintptr_t i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, worker, (void*)i);
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  unsigned long total = 0;
  for (int i = 0; i < 256; i++) total += byte_counts[i];
  printf("total %lu\n", total);
  return 0;
}
