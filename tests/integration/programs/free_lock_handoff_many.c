// free_lock_handoff_many.c — race-free: eight threads update four shared counters,
// each under its own mutex, choosing the counter at random between short stretches
// of private work, so every mutex passes between all the threads all the time.
// Each update must be ordered after the previous holder's by that mutex alone;
// the lock path decides most hand-offs without reading the mutex's clock (while no
// clock has changed since the thread last saw it, synced_objects.h), and a
// hand-off it wrongly took for one with nothing to carry shows as a race here:
// samples land between the critical sections and watch the next counter update.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "deadline.h"

#define THREADS 8
#define LOCKS 4

static struct {
  pthread_mutex_t mutex;
  uint64_t value;
  uint64_t updates;
  char pad[64];
} counters[LOCKS];

static uint64_t updates_by[THREADS];
static double seconds = 1.0;

static void* worker(void* arg) {
  const int index = (int)(intptr_t)arg;
  uint64_t h = (uint64_t)(index + 1) * 0x9e3779b97f4a7c15ull;
  struct deadline end = deadline_after(seconds / THREADS * 2);
  while (before(&end)) {
    for (int i = 0; i < 256; i++) {
      for (int k = 0; k < 8; k++) {  // private work between critical sections
        h ^= h << 13;
        h ^= h >> 7;
        h ^= h << 17;
      }
      const int which = (int)(h % LOCKS);
      pthread_mutex_lock(&counters[which].mutex);
      counters[which].value += h & 0xff;
      counters[which].updates++;
      pthread_mutex_unlock(&counters[which].mutex);
      updates_by[index]++;
    }
  }
  return NULL;
}

int main(int argc, char** argv) {
  if (argc > 1) seconds = atof(argv[1]);
  for (int i = 0; i < LOCKS; i++) pthread_mutex_init(&counters[i].mutex, NULL);
  pthread_t threads[THREADS];
  for (int i = 0; i < THREADS; i++) pthread_create(&threads[i], NULL, worker, (void*)(intptr_t)i);
  for (int i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
  uint64_t counted = 0, expected = 0;
  for (int i = 0; i < LOCKS; i++) counted += counters[i].updates;
  for (int i = 0; i < THREADS; i++) expected += updates_by[i];
  printf("updates %llu of %llu\n", (unsigned long long)counted, (unsigned long long)expected);
  return counted == expected ? 0 : 1;
}
