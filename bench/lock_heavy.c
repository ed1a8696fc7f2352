// lock_heavy.c — the overhead benchmark's lock-heavy program: THREADS threads
// (default 2) each do ROUNDS short critical sections on one of a few shared
// mutex-protected counters, with a little private work between them. Every lock and
// unlock goes through racetrap's interposers, so this measures the happens-before
// engine's cost per synchronization call. Race-free.
//
//   lock_heavy [rounds-per-thread] [threads]     (default 20000000 2)
//
// The default was 2000000 (0.15 s natively, of which ~3 ms is process start and exit,
// and racetrap adds ~6-8 ms of its own start-up and exit): lengthened tenfold (issue 5)
// so that the per-call cost, not start-up or scheduling noise, is what is measured.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define LOCKS 4

static struct {
  pthread_mutex_t mutex;
  uint64_t value;
  char pad[64 - sizeof(uint64_t)];
} counters[LOCKS];

static long rounds = 20000000;

static void* worker(void* arg) {
  uint64_t h = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1;
  for (long i = 0; i < rounds; i++) {
    for (int k = 0; k < 8; k++) {  // private work between critical sections
      h ^= h << 13;
      h ^= h >> 7;
      h ^= h << 17;
    }
    int which = (int)(h % LOCKS);
    pthread_mutex_lock(&counters[which].mutex);
    counters[which].value += h & 0xff;
    pthread_mutex_unlock(&counters[which].mutex);
  }
  return (void*)(uintptr_t)h;
}

int main(int argc, char** argv) {
  if (argc > 1) rounds = atol(argv[1]);
  int threads = argc > 2 ? atoi(argv[2]) : 2;
  if (threads < 1 || threads > 64) threads = 2;
  for (int i = 0; i < LOCKS; i++) pthread_mutex_init(&counters[i].mutex, NULL);
  pthread_t tids[64];
  for (int t = 0; t < threads; t++) pthread_create(&tids[t], NULL, worker, (void*)(uintptr_t)(t + 1));
  for (int t = 0; t < threads; t++) pthread_join(tids[t], NULL);
  uint64_t total = 0;
  for (int i = 0; i < LOCKS; i++) total += counters[i].value;
  printf("total %llu\n", (unsigned long long)total);
  return 0;
}
