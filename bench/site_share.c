// site_share.c — one hot loop whose basic block makes four memory accesses with
// register-only work between them: a private iteration counter first, then three
// stores/read-modify-writes to shared data (all racy: both threads run the loop
// unsynchronized). bench/site_share counts how often racetrap watches each site.
// Built with -no-pie so the sampled pcs map to lines without the load address.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "deadline.h"

#define MIX(h) \
  do {                                  \
    h ^= h << 13;                       \
    h ^= h >> 7;                        \
    h ^= h << 17;                       \
    h *= 0x2545f4914f6cdd1dull;         \
  } while (0)

static struct { long iterations; char pad[56]; } counters[2] __attribute__((aligned(64)));
static volatile uint64_t shared_last;
static volatile uint32_t shared_bytes;
static volatile uint16_t shared_flags;

struct arg { double seconds; int id; };

static void* worker(void* p) {
  const struct arg* a = p;
  struct deadline end = deadline_after(a->seconds);
  uint64_t h = 1 + (uint64_t)a->id;
  while (before(&end)) {
    for (int i = 0; i < 256; i++) {
      counters[a->id].iterations++;  // SITE private counter
      MIX(h);
      MIX(h);
      shared_last = h;  // SITE shared store (8 bytes)
      MIX(h);
      MIX(h);
      shared_bytes += (uint32_t)h & 0xff;  // SITE shared read-modify-write (4 bytes)
      MIX(h);
      MIX(h);
      shared_flags = (uint16_t)(h >> 48);  // SITE shared store (2 bytes)
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
  printf("%llu %u %u %ld\n", (unsigned long long)shared_last, shared_bytes, shared_flags, counters[0].iterations);
  return 0;
}
