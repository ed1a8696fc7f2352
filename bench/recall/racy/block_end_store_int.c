// block_end_store_int.c — a 4-byte store at the end of a basic block whose first
// memory access is the thread's private iteration counter, with a stretch of
// register-only mixing in between. Both threads store to `shared_digest` without
// synchronization: a write-write race on the block's last access.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "deadline.h"

struct per_thread {
  long iterations;
  char pad[56];
} __attribute__((aligned(64)));

static struct per_thread counters[2];
static volatile uint32_t shared_digest;

struct arg { double seconds; int id; };

static void* worker(void* p) {
  const struct arg* a = p;
  struct per_thread* me = &counters[a->id];
  struct deadline end = deadline_after(a->seconds);
  uint64_t h = 0x9e3779b97f4a7c15ull + a->id;
  while (before(&end)) {
    for (int i = 0; i < 256; i++) {
      me->iterations++;
      h ^= h << 13;
      h ^= h >> 7;
      h ^= h << 17;
      h *= 0x2545f4914f6cdd1dull;
      h += i;
      shared_digest = (uint32_t)h;  // RACE
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
  printf("digest %u after %ld + %ld\n", shared_digest, counters[0].iterations, counters[1].iterations);
  return 0;
}
