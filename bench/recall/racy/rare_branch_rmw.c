// rare_branch_rmw.c — an error counter bumped only on a rare branch (about once
// in 32 iterations) by both threads, with a plain increment: a write-write race
// on a rarely executed read-modify-write.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "deadline.h"

static volatile int error_count;

static void* worker(void* p) {
  struct deadline end = deadline_after(*(const double*)p);
  uint64_t h = (uint64_t)(uintptr_t)&end | 1;
  while (before(&end)) {
    for (int i = 0; i < 1024; i++) {
      h ^= h >> 12;
      h ^= h << 25;
      h ^= h >> 27;
      if ((h * 0x2545f4914f6cdd1dull >> 59) == 0) error_count++;  // RACE
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
  printf("errors %d\n", error_count);
  return 0;
}
