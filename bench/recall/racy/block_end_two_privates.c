// block_end_two_privates.c — two private accesses (an iteration counter and a
// per-thread checksum) start the block; the racy store to `last_checksum` ends it.
// Both threads store it with no synchronization.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "deadline.h"

struct per_thread {
  long iterations;
  uint64_t checksum;
  char pad[48];
} __attribute__((aligned(64)));

static struct per_thread mine[2];
static volatile uint64_t last_checksum;

struct arg { double seconds; int id; };

static void* worker(void* p) {
  const struct arg* a = p;
  struct per_thread* me = &mine[a->id];
  struct deadline end = deadline_after(a->seconds);
  uint64_t h = 5 + (uint64_t)a->id;
  while (before(&end)) {
    for (int i = 0; i < 256; i++) {
      me->iterations++;
      me->checksum += h;
      h ^= h << 7;
      h ^= h >> 9;
      h *= 0xff51afd7ed558ccdull;
      last_checksum = h;  // RACE
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
  printf("%llu %llu\n", (unsigned long long)last_checksum, (unsigned long long)(mine[0].checksum ^ mine[1].checksum));
  return 0;
}
