// spin_cmpxchg_skip.c — racy: the LOCK CMPXCHG spin lock of free/spin_cmpxchg.c, but
// the second thread updates the table without taking it: its writes race with the
// first thread's writes made under the lock (write-write).
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "deadline.h"

static long table_lock;

static void lock(void) {
  long expected = 0;
  while (!__atomic_compare_exchange_n(&table_lock, &expected, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) expected = 0;
}
static void unlock(void) { __atomic_store_n(&table_lock, 0, __ATOMIC_RELEASE); }

static long table[16];

static void* worker(void* arg) {
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
