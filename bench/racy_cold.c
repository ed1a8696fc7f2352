// racy_cold.c — a race in cold code next to a hot, race-free shared loop: the
// sampler's PC-diversity test. Both threads spend almost all their time in
// hot_loop(), which reads a shared read-only table and writes each thread's own
// slot of a shared array (shared memory, never in conflict), and once every
// `cold-every` rounds (default 64) call record_event(), whose unsynchronized updates
// of the shared `event_counts` histogram are the race. A sampler that keeps
// re-watching the hot loop's PCs rarely has a register free when the cold access
// is sampled.
//
//   racy_cold [seconds] [cold-every]
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static unsigned cold_every = 64;

static uint64_t table[4096];            // shared, only read after start
static struct {
  volatile uint64_t sum;
  char pad[56];
} slots[2];                             // shared array, one slot per thread
static volatile uint64_t event_counts[16];  // the racy words

static double seconds_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) static void hot_loop(int me, uint64_t* h) {
  for (int i = 0; i < 256; i++) {
    *h ^= *h << 13;
    *h ^= *h >> 7;
    *h ^= *h << 17;
    slots[me].sum += table[*h & 4095];
  }
}

__attribute__((noinline)) static void record_event(uint64_t h) {
  for (int i = 0; i < 16; i++) {
    event_counts[(h + i) & 15] = event_counts[(h + i) & 15] + 1;  // RACE
  }
}

struct arg {
  int me;
  double seconds;
};

static void* worker(void* p) {
  const struct arg* a = p;
  double end = seconds_now() + a->seconds;
  uint64_t h = 0x9e3779b97f4a7c15ull * (a->me + 1);
  unsigned round = 0;
  while (seconds_now() < end) {
    hot_loop(a->me, &h);
    if (++round % cold_every == 0) record_event(h);
  }
  return NULL;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  if (argc > 2 && atoi(argv[2]) > 0) cold_every = (unsigned)atoi(argv[2]);
  for (int i = 0; i < 4096; i++) table[i] = (uint64_t)i * 2654435761u;
  struct arg args[2] = {{0, seconds}, {1, seconds}};
  pthread_t t[2];
  for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, worker, &args[i]);
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  uint64_t events = 0;
  for (int i = 0; i < 16; i++) events += event_counts[i];
  printf("events %llu\n", (unsigned long long)events);
  return 0;
}
