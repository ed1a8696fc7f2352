// racy_rare.c — the racy access is a small fraction of the work: each thread spends
// its loop mixing a hash in local variables and publishes it to the shared
// `last_digest` only once every 128 iterations.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "deadline.h"

static volatile uint64_t last_digest;

static void* digest_worker(void* arg) {
  struct deadline end = deadline_after(*(const double*)arg);
  uint64_t h = (uint64_t)(uintptr_t)&end, sum = 0;
  while (before(&end)) {
    for (unsigned i = 1; i <= 4096; i++) {
      h ^= h << 13;
      h ^= h >> 7;
      h ^= h << 17;
      sum += h >> 32;
      if (i % 128 == 0) last_digest = h;  // RACE
    }
  }
  return (void*)(uintptr_t)sum;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  pthread_t a, b;
  pthread_create(&a, NULL, digest_worker, &seconds);
  pthread_create(&b, NULL, digest_worker, &seconds);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("last digest %llx\n", (unsigned long long)last_digest);
  return 0;
}
