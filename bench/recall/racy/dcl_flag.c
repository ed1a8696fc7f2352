// dcl_flag.c — broken double-checked locking with a separate `ready` flag: readers
// test the plain flag without the lock and, when set, read the table; when clear
// they take the lock, check again, fill the table and set the flag with a plain
// store. A reset thread clears the flag under the lock from time to time, so
// initialization happens again and again. The unlocked flag test races with the
// flag's stores made under the lock.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "deadline.h"

static volatile int ready;
static uint64_t table[32];
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t get(unsigned i) {
  if (!ready) {  // RACE
    pthread_mutex_lock(&init_lock);
    if (!ready) {
      for (unsigned k = 0; k < 32; k++) table[k] = k * 0x9e3779b97f4a7c15ull;
      ready = 1;  // RACE
    }
    pthread_mutex_unlock(&init_lock);
  }
  return table[i & 31];
}

static void* reader(void* p) {
  struct deadline end = deadline_after(*(const double*)p);
  uint64_t sum = 0;
  while (before(&end)) {
    for (unsigned i = 0; i < 256; i++) {
      uint64_t h = sum + i;
      h ^= h >> 13;
      h *= 0xff51afd7ed558ccdull;
      sum += get((unsigned)h) ^ h;
    }
  }
  return (void*)(uintptr_t)sum;
}

static void* resetter(void* p) {
  struct deadline end = deadline_after(*(const double*)p);
  uint64_t h = 1;
  while (before(&end)) {
    for (int spin = 0; spin < 5000; spin++) h = h * 6364136223846793005ull + 3;
    pthread_mutex_lock(&init_lock);
    ready = 0;  // RACE
    pthread_mutex_unlock(&init_lock);
  }
  return (void*)(uintptr_t)h;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  pthread_t r, s;
  pthread_create(&r, NULL, reader, &seconds);
  pthread_create(&s, NULL, resetter, &seconds);
  pthread_join(r, NULL);
  pthread_join(s, NULL);
  printf("ready %d\n", ready);
  return 0;
}
