// rare_branch_many_threads.c — 8 threads (more than the cores) fill private
// buffers; once in 64 iterations, on a branch otherwise skipped, a thread records
// its latest value in a shared variable with a plain store, which races with the
// other threads' stores and reads on the same rare branch.
// Usage: rare_branch_many_threads [SECONDS]: about SECONDS of wall time on all cores
// (each thread uses SECONDS * cores / 8 of CPU time, capped at 8x SECONDS of wall time).
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

enum { kThreads = 8, kBuffer = 256 };

static uint64_t latest;
static double cpu_seconds, wall_limit;

static double now(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void* fill_buffer(void* arg) {
  uint64_t* buffer = calloc(kBuffer, sizeof *buffer);
  uint64_t x = 0x9e3779b97f4a7c15ull * (uint64_t)(uintptr_t)arg + 1, mix = 0;
  const double cpu_end = now(CLOCK_THREAD_CPUTIME_ID) + cpu_seconds;
  while (now(CLOCK_THREAD_CPUTIME_ID) < cpu_end && now(CLOCK_MONOTONIC) < wall_limit) {
    for (unsigned i = 0; i < 4096; i++) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      buffer[i % kBuffer] += x;
      if ((x & 63) == 0) {
        mix ^= latest;  // RACE
        latest = x;     // RACE
      }
    }
  }
  free(buffer);
  return (void*)(uintptr_t)mix;
}

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  if (cores < 1) cores = 1;
  cpu_seconds = seconds * (double)cores / kThreads;
  wall_limit = now(CLOCK_MONOTONIC) + 8 * seconds;
  pthread_t threads[kThreads];
  for (long i = 0; i < kThreads; i++) pthread_create(&threads[i], NULL, fill_buffer, (void*)i);
  uint64_t mix = 0;
  for (int i = 0; i < kThreads; i++) {
    void* r;
    pthread_join(threads[i], &r);
    mix ^= (uint64_t)(uintptr_t)r;
  }
  printf("mix %llx\n", (unsigned long long)mix);
  return 0;
}
