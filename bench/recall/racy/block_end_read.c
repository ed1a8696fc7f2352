// block_end_read.c — a read-write race whose read ends a basic block: the reader's
// block starts with its private iteration counter, mixes in registers, then reads
// the shared `config_epoch`; the writer bumps `config_epoch` in its own loop with
// no synchronization.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "deadline.h"

static struct { long iterations; char pad[56]; } reader_stats __attribute__((aligned(64)));
static volatile long config_epoch;

static void* reader(void* p) {
  struct deadline end = deadline_after(*(const double*)p);
  uint64_t h = 7, acc = 0;
  while (before(&end)) {
    for (int i = 0; i < 256; i++) {
      reader_stats.iterations++;
      h ^= h << 13;
      h ^= h >> 7;
      h ^= h << 17;
      h += (uint64_t)i * 0x9e3779b97f4a7c15ull;
      acc += h ^ (uint64_t)config_epoch;  // RACE
      __asm__ volatile("" ::: "memory");
    }
  }
  return (void*)(uintptr_t)acc;
}

static void* writer(void* p) {
  struct deadline end = deadline_after(*(const double*)p);
  uint64_t h = 11;
  while (before(&end)) {
    for (int i = 0; i < 256; i++) {
      h ^= h << 13;
      h ^= h >> 7;
      h ^= h << 17;
      h *= 0x2545f4914f6cdd1dull;
      h ^= h >> 31;
      if ((h & 7) == 0) config_epoch = (long)(h >> 8);  // RACE
      __asm__ volatile("" ::: "memory");
    }
  }
  return NULL;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  pthread_t r, w;
  pthread_create(&r, NULL, reader, &seconds);
  pthread_create(&w, NULL, writer, &seconds);
  pthread_join(r, NULL);
  pthread_join(w, NULL);
  printf("epoch %ld after %ld\n", config_epoch, reader_stats.iterations);
  return 0;
}
