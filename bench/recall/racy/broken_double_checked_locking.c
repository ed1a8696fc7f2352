// broken_double_checked_locking.c — 8 threads look up lazily built objects in a
// table; each entry is built once under its own mutex and published by a plain
// store, but the first check reads the entry with no lock and no atomic, then
// uses the object: the unlocked check races with the publishing store (and the
// object's fields with their initialization). Every 100 ms (one thread, between two
// barriers) the table is cleared so entries are built again.
// Usage: broken_double_checked_locking [SECONDS]: about SECONDS of wall time on all cores
// (the process uses SECONDS * cores of CPU time, capped at 8x SECONDS of wall time).
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

enum { kThreads = 8, kEntries = 1 << 16 };

struct object {
  uint64_t key;
  uint64_t value;
};

static struct object* table[kEntries];
static struct object pool[kEntries];
static pthread_mutex_t locks[kEntries];
static pthread_barrier_t round_barrier;
static double cpu_end, wall_end;
static int stop;

static double clock_seconds(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}
static double now(void) { return clock_seconds(CLOCK_MONOTONIC); }

static struct object* lookup(unsigned i) {
  struct object* p = table[i];  // RACE
  if (p == NULL) {
    pthread_mutex_lock(&locks[i]);
    p = table[i];
    if (p == NULL) {
      p = &pool[i];
      p->key = i;                                // RACE
      p->value = (uint64_t)i * 2654435761u;      // RACE
      table[i] = p;  // RACE
    }
    pthread_mutex_unlock(&locks[i]);
  }
  return p;
}

static void* look_up_objects(void* arg) {
  uint64_t x = 0x9e3779b97f4a7c15ull * (uint64_t)(uintptr_t)arg + 1, sum = 0;
  for (;;) {
    const double round_end = now() + 0.1;
    while (now() < round_end) {
      for (int k = 0; k < 256; k++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        sum += lookup((unsigned)(x >> 40) % kEntries)->value;  // RACE
      }
    }
    // One thread clears the table and decides whether to stop; the barriers
    // order that against every lookup before and after it.
    if (pthread_barrier_wait(&round_barrier) == PTHREAD_BARRIER_SERIAL_THREAD) {
      for (int i = 0; i < kEntries; i++) table[i] = NULL;
      stop = clock_seconds(CLOCK_PROCESS_CPUTIME_ID) >= cpu_end || now() >= wall_end;
    }
    pthread_barrier_wait(&round_barrier);
    if (stop) break;
  }
  return (void*)(uintptr_t)sum;
}

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  if (cores < 1) cores = 1;
  cpu_end = clock_seconds(CLOCK_PROCESS_CPUTIME_ID) + seconds * (double)cores;
  wall_end = now() + 8 * seconds;
  for (int i = 0; i < kEntries; i++) pthread_mutex_init(&locks[i], NULL);
  pthread_barrier_init(&round_barrier, NULL, kThreads);
  pthread_t threads[kThreads];
  for (long i = 0; i < kThreads; i++) pthread_create(&threads[i], NULL, look_up_objects, (void*)i);
  uint64_t total = 0;
  for (int i = 0; i < kThreads; i++) {
    void* r;
    pthread_join(threads[i], &r);
    total += (uint64_t)(uintptr_t)r;
  }
  printf("sum %llx\n", (unsigned long long)total);
  return 0;
}
