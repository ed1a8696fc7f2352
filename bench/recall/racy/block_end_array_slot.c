// block_end_array_slot.c — the racy store is to a small shared array indexed by a
// value computed in registers (index addressing): private counter first, mixing,
// then `ring[h & 3] = h`. Both threads write the same four slots unsynchronized.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "deadline.h"

static struct { long iterations; char pad[56]; } counters[2] __attribute__((aligned(64)));
static volatile uint64_t ring[4];

struct arg { double seconds; int id; };

static void* worker(void* p) {
  const struct arg* a = p;
  struct deadline end = deadline_after(a->seconds);
  uint64_t h = 99 + (uint64_t)a->id;
  while (before(&end)) {
    for (int i = 0; i < 256; i++) {
      counters[a->id].iterations++;
      h ^= h << 13;
      h ^= h >> 7;
      h ^= h << 17;
      h += 0x9e3779b97f4a7c15ull;
      ring[h & 3] = h;  // RACE
      __asm__ volatile("" ::: "memory");
    }
  }
  return NULL;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  struct arg args[2] = {{seconds, 0}, {seconds, 1}};
  pthread_t t[2];
  for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, worker, &args[i]);
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  printf("%llu\n", (unsigned long long)(ring[0] ^ ring[1] ^ ring[2] ^ ring[3]));
  return 0;
}
