// block_end_rmw_short.c — a 2-byte read-modify-write (shared_total += 1 on a uint16_t) at the end of a basic block whose first memory access is the
// thread's private iteration counter, after register-only mixing. Two threads do
// it with no synchronization: a write-write race on the block's last access.
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
static struct {
  char tag[6];
  volatile uint16_t shared_total;
} totals;

struct arg { double seconds; int id; };

static void* worker(void* p) {
  const struct arg* a = p;
  struct per_thread* me = &counters[a->id];
  struct deadline end = deadline_after(a->seconds);
  uint64_t h = 0x243f6a8885a308d3ull ^ (uint64_t)a->id;
  while (before(&end)) {
    for (int i = 0; i < 256; i++) {
      me->iterations++;
      h = h * 6364136223846793005ull + 1442695040888963407ull;
      h ^= h >> 29;
      h *= 0xbf58476d1ce4e5b9ull;
      h ^= h >> 32;
      totals.shared_total += 1;  // RACE
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
  printf("total %llu after %ld + %ld\n", (unsigned long long)totals.shared_total, counters[0].iterations,
         counters[1].iterations);
  return 0;
}
