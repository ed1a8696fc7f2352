// rwlock_readers_writer.c — race-free: two readers look values up under a read
// lock (they only read), one writer updates the table under the write lock.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "deadline.h"

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static uint64_t table[64];

static void* reader(void* p) {
  struct deadline end = deadline_after(*(const double*)p / 2);
  uint64_t h = (uint64_t)(uintptr_t)&end, sum = 0;
  while (before(&end)) {
    for (int i = 0; i < 64; i++) {
      h = h * 6364136223846793005ull + 1;
      pthread_rwlock_rdlock(&lock);
      sum += table[h >> 58];
      pthread_rwlock_unlock(&lock);
    }
  }
  return (void*)(uintptr_t)sum;
}

static void* writer(void* p) {
  struct deadline end = deadline_after(*(const double*)p);
  uint64_t h = 5;
  while (before(&end)) {
    for (int i = 0; i < 16; i++) {
      for (int k = 0; k < 64; k++) h = h * 0x5851f42d4c957f2dull + 1;
      pthread_rwlock_wrlock(&lock);
      table[h >> 58] = h;
      pthread_rwlock_unlock(&lock);
    }
  }
  return NULL;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  pthread_t r1, r2, w;
  pthread_create(&r1, NULL, reader, &seconds);
  pthread_create(&r2, NULL, reader, &seconds);
  pthread_create(&w, NULL, writer, &seconds);
  pthread_join(r1, NULL);
  pthread_join(r2, NULL);
  pthread_join(w, NULL);
  printf("%llu\n", (unsigned long long)table[0]);
  return 0;
}
