// spin_xchg_late_skip.c — racy: spin_xchg_skip.c with its lock and unlock out of
// line, and the thread that takes the lock starting after the one that skips it.
// No sample lands on the XCHG until the locking thread has run a while, and the
// code around the racing writes has none, so the first race verdict often comes
// before racetrap has learned the lock word; the repeats, judged with the word,
// keep finding the writes unordered (write-write).
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "deadline.h"

static int table_lock;

__attribute__((noinline)) static void lock(void) {
  while (__atomic_exchange_n(&table_lock, 1, __ATOMIC_ACQUIRE)) {
  }
}
__attribute__((noinline)) static void unlock(void) { __atomic_store_n(&table_lock, 0, __ATOMIC_RELEASE); }

static long table[16];

static void* worker(void* arg) {
  const struct timespec late = {0, 30 * 1000 * 1000};
  nanosleep(&late, NULL);
  struct deadline end = deadline_after(*(const double*)arg);
  unsigned long h = (unsigned long)&end;
  while (before(&end)) {
    lock();
    for (int i = 0; i < 16; ++i) table[i] += (long)(h >> i) & 7;  // RACE
    unlock();
    for (int spin = 0; spin < 64; ++spin) h = h * 6364136223846793005ull + 1442695040888963407ull;
  }
  return NULL;
}

static void* lock_skipper(void* arg) {
  struct deadline end = deadline_after(*(const double*)arg);
  unsigned long h = (unsigned long)&end;
  while (before(&end)) {
    for (int i = 0; i < 16; ++i) table[i] += (long)(h >> i) & 7;  // RACE
    for (int spin = 0; spin < 64; ++spin) h = h * 6364136223846793005ull + 1442695040888963407ull;
  }
  return NULL;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  pthread_t a, b;
  pthread_create(&a, NULL, worker, &seconds);
  pthread_create(&b, NULL, lock_skipper, &seconds);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  long sum = 0;
  for (int i = 0; i < 16; ++i) sum += table[i];
  printf("sum = %ld\n", sum);
  return 0;
}
