// racy_block_end.c — the racy write is the last access of a long basic block whose
// first memory access is the thread's private iteration counter: a sample that
// lands anywhere in the block must be able to choose the write. Two threads store
// to `shared_tail` with no synchronization (write-write race).
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "deadline.h"

#define MIX(h)                  \
  do {                          \
    h ^= h << 13;               \
    h ^= h >> 7;                \
    h ^= h << 17;               \
    h *= 0x2545f4914f6cdd1dull; \
  } while (0)

static struct {
  long iterations;
  char pad[56];
} counters[2] __attribute__((aligned(64)));
static volatile uint64_t shared_tail;

struct worker_arg {
  double seconds;
  int id;
};

static void* append_tail(void* p) {
  const struct worker_arg* a = p;
  long* const mine = &counters[a->id].iterations;
  struct deadline end = deadline_after(a->seconds);
  uint64_t h = 1 + (uint64_t)a->id;
  while (before(&end)) {
    for (int i = 0; i < 256; i++) {
      ++*mine;
      MIX(h);
      MIX(h);
      MIX(h);
      MIX(h);
      MIX(h);
      MIX(h);
      shared_tail = h;  // RACE
      __asm__ volatile("" ::: "memory");
    }
  }
  return NULL;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  struct worker_arg args[2] = {{seconds, 0}, {seconds, 1}};
  pthread_t t[2];
  for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, append_tail, &args[i]);
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  printf("tail %llu after %ld + %ld\n", (unsigned long long)shared_tail, counters[0].iterations,
         counters[1].iterations);
  return 0;
}
