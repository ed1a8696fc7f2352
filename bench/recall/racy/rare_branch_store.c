// rare_branch_store.c — the racy store sits on a branch taken about once in 64
// iterations of register-only hashing: both threads publish their latest
// "interesting" hash to `last_interesting` with no synchronization.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "deadline.h"

static volatile uint64_t last_interesting;

static void* worker(void* p) {
  struct deadline end = deadline_after(*(const double*)p);
  uint64_t h = (uint64_t)(uintptr_t)&end;
  while (before(&end)) {
    for (int i = 0; i < 1024; i++) {
      h ^= h << 13;
      h ^= h >> 7;
      h ^= h << 17;
      if ((h & 63) == 0) last_interesting = h;  // RACE
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
  printf("%llu\n", (unsigned long long)last_interesting);
  return 0;
}
