// config_reload_sleeping.c — a reload thread sleeps 1 ms between updates of a
// shared configuration word that a busy worker reads on every request, with no
// synchronization: a read-write race whose writer is mostly asleep.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "deadline.h"

static volatile unsigned config_mask = 0xff;
static int stop;  // atomic

static void* worker(void* p) {
  struct deadline end = deadline_after(*(const double*)p);
  uint64_t h = 1, accepted = 0;
  while (before(&end)) {
    for (int i = 0; i < 256; i++) {
      h = h * 6364136223846793005ull + 1442695040888963407ull;
      if (((h >> 32) & config_mask) == 0) accepted++;  // RACE
    }
  }
  __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
  return (void*)(uintptr_t)accepted;
}

static void* reloader(void* p) {
  (void)p;
  struct timespec ms = {0, 1000000};
  unsigned v = 0;
  while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
    nanosleep(&ms, NULL);
    config_mask = 0xff ^ (++v & 0xf);  // RACE
  }
  return NULL;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  pthread_t a, b;
  pthread_create(&a, NULL, worker, &seconds);
  pthread_create(&b, NULL, reloader, &seconds);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("mask %x\n", config_mask);
  return 0;
}
