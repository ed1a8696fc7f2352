// rare_branch_read.c — one thread rewrites a shared threshold often; the other
// reads it only on a rarely taken branch (about once in 128 iterations of
// register work). The rare read races with the frequent writes.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "deadline.h"

static volatile uint64_t threshold = 1000;

static void* checker(void* p) {
  struct deadline end = deadline_after(*(const double*)p);
  uint64_t h = 77, hits = 0;
  while (before(&end)) {
    for (int i = 0; i < 1024; i++) {
      h = h * 6364136223846793005ull + 1442695040888963407ull;
      if (((h >> 20) & 127) == 0 && (h >> 40) < threshold) hits++;  // RACE
    }
  }
  return (void*)(uintptr_t)hits;
}

static void* tuner(void* p) {
  struct deadline end = deadline_after(*(const double*)p);
  uint64_t h = 3;
  while (before(&end)) {
    for (int i = 0; i < 1024; i++) {
      h = h * 0x5851f42d4c957f2dull + 1;
      threshold = (h >> 44) + 1;  // RACE
      for (int k = 0; k < 4; k++) h ^= h >> 11;
    }
  }
  return NULL;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  pthread_t a, b;
  pthread_create(&a, NULL, checker, &seconds);
  pthread_create(&b, NULL, tuner, &seconds);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("%llu\n", (unsigned long long)threshold);
  return 0;
}
