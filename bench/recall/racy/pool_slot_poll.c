// pool_slot_poll.c — a worker thread fills result slots one by one and publishes
// how many are done through an atomic counter; the consumer reads the slot one
// past the published count ("it is probably ready by now") instead of waiting: the
// slot read races with the worker's slot write.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "deadline.h"

#define SLOTS 4096

static volatile uint64_t slots[SLOTS];
static unsigned filled;  // atomic: slots [0, filled) are ready
static int done;         // atomic

static void* producer(void* p) {
  struct deadline end = deadline_after(*(const double*)p);
  uint64_t h = 1;
  while (before(&end)) {
    for (unsigned i = 0; i < SLOTS; i++) {
      for (int k = 0; k < 50; k++) h = h * 0x5851f42d4c957f2dull + 7;
      slots[i] = h;  // RACE
      __atomic_store_n(&filled, i + 1, __ATOMIC_RELEASE);
    }
    __atomic_store_n(&filled, 0, __ATOMIC_RELEASE);
  }
  __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
  return NULL;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  pthread_t t;
  pthread_create(&t, NULL, producer, &seconds);
  uint64_t sum = 0;
  while (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {
    unsigned n = __atomic_load_n(&filled, __ATOMIC_ACQUIRE);
    if (n < SLOTS) sum += slots[n];  // RACE
  }
  pthread_join(t, NULL);
  printf("sum %llu\n", (unsigned long long)sum);
  return 0;
}
