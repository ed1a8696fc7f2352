// write_under_rdlock.c — two threads take a rwlock for *reading* and then update a
// shared statistic inside it: readers are not ordered with each other, so the two
// writes race (a write-write race under a read lock).
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "deadline.h"

static pthread_rwlock_t table_lock = PTHREAD_RWLOCK_INITIALIZER;
static uint64_t table[64];
static volatile long lookups;

static void* reader(void* p) {
  struct deadline end = deadline_after(*(const double*)p);
  uint64_t h = (uint64_t)(uintptr_t)&end, sum = 0;
  while (before(&end)) {
    for (int i = 0; i < 64; i++) {
      h = h * 6364136223846793005ull + 1;
      pthread_rwlock_rdlock(&table_lock);
      sum += table[h >> 58];
      lookups = lookups + 1;  // RACE
      pthread_rwlock_unlock(&table_lock);
    }
  }
  return (void*)(uintptr_t)sum;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  for (int i = 0; i < 64; i++) table[i] = (uint64_t)i * i;
  pthread_t a, b;
  pthread_create(&a, NULL, reader, &seconds);
  pthread_create(&b, NULL, reader, &seconds);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("lookups %ld\n", lookups);
  return 0;
}
