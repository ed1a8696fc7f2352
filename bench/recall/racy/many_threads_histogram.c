// many_threads_histogram.c — 16 threads (many more than this machine's cores)
// hash private values and count them in one shared 64-bucket histogram with a
// plain increment: a read-modify-write race between every pair of threads, with
// each thread running only a time slice at a time.
// Usage: many_threads_histogram [SECONDS]: about SECONDS of wall time on all cores
// (each thread uses SECONDS * cores / 16 of CPU time, capped at 8x SECONDS of wall time).
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#ifndef WORDS
#define WORDS 256
#endif
#ifndef BUCKETS
#define BUCKETS (1 << 20)
#endif
enum { kThreads = 16, kBuckets = BUCKETS };

static long histogram[kBuckets];
static double cpu_seconds, wall_limit;

static double now(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

// A record's key: a hash of its words (the per-item work of a real counter).
static uint64_t key_of(const uint64_t* record) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (int w = 0; w < WORDS; w++) h = (h ^ record[w]) * 0x100000001b3ull;
  return h ^ (h >> 29);
}

static void* count_values(void* arg) {
  uint64_t record[WORDS];
  uint64_t x = 0x9e3779b97f4a7c15ull * (uint64_t)(uintptr_t)arg + 1;
  const double cpu_end = now(CLOCK_THREAD_CPUTIME_ID) + cpu_seconds;
  while (now(CLOCK_THREAD_CPUTIME_ID) < cpu_end && now(CLOCK_MONOTONIC) < wall_limit) {
    for (int i = 0; i < 1024; i++) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      record[i % WORDS] = x;
      histogram[key_of(record) % kBuckets]++;  // RACE
    }
  }
  return NULL;
}

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  if (cores < 1) cores = 1;
  cpu_seconds = seconds * (double)cores / kThreads;
  wall_limit = now(CLOCK_MONOTONIC) + 8 * seconds;
  pthread_t threads[kThreads];
  for (long i = 0; i < kThreads; i++) pthread_create(&threads[i], NULL, count_values, (void*)i);
  long total = 0;
  for (int i = 0; i < kThreads; i++) pthread_join(threads[i], NULL);
  for (int b = 0; b < kBuckets; b++) total += histogram[b];
  printf("counted %ld values\n", total);
  return 0;
}
