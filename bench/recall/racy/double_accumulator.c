// double_accumulator.c — two threads add their partial sums into one shared
// double with a plain `+=` (an SSE load, add and store): a write-write race.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "deadline.h"

static volatile double total;

static void* worker(void* p) {
  struct deadline end = deadline_after(*(const double*)p);
  uint64_t h = (uint64_t)(uintptr_t)&end;
  while (before(&end)) {
    for (int i = 0; i < 256; i++) {
      h = h * 6364136223846793005ull + 1442695040888963407ull;
      double x = (double)(h >> 11) * 0x1.0p-53;
      total += x * x;  // RACE
    }
  }
  return NULL;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  pthread_t a, b;
  pthread_create(&a, NULL, worker, &seconds);
  pthread_create(&b, NULL, worker, &seconds);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("total %g\n", total);
  return 0;
}
