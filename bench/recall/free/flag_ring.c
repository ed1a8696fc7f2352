// flag_ring.c — race-free: a ring of 8 buffers, each with its own full flag;
// the producer fills a buffer and publishes it with a release store of full = 1,
// the consumer spins on an acquire load (plain MOV) of that flag, reads the
// buffer and gives it back with a release store of full = 0. Synchronization:
// the hand-written per-buffer flags only.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "deadline.h"

enum { kSlots = 8, kWords = 1000 };

struct slot {
  int full;  // 0: the producer may fill it, 1: the consumer may read it
  long data[kWords];
};

static struct slot ring[kSlots];


static void* producer(void* arg) {
  struct deadline end = deadline_after(*(const double*)arg);
  long round = 1;
  for (unsigned k = 0;; ++k, ++round) {
    struct slot* s = &ring[k % kSlots];
    while (__atomic_load_n(&s->full, __ATOMIC_ACQUIRE) != 0) __builtin_ia32_pause();
    if (!before(&end)) {  // the end: an empty slot (data[0] == -1), filled before it is published
      s->data[0] = -1;
      __atomic_store_n(&s->full, 1, __ATOMIC_RELEASE);
      return NULL;
    }
    for (int i = 0; i < kWords; ++i) s->data[i] = round ^ i;
    __atomic_store_n(&s->full, 1, __ATOMIC_RELEASE);
  }
}

static void* consumer(void* arg) {
  (void)arg;
  long sum = 0;
  for (unsigned k = 0;; ++k) {
    struct slot* s = &ring[k % kSlots];
    while (__atomic_load_n(&s->full, __ATOMIC_ACQUIRE) != 1) __builtin_ia32_pause();
    if (s->data[0] == -1) return (void*)sum;
    for (int i = 0; i < kWords; ++i) sum += s->data[i];
    __atomic_store_n(&s->full, 0, __ATOMIC_RELEASE);
  }
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  pthread_t a, b;
  void* sum = NULL;
  pthread_create(&a, NULL, producer, &seconds);
  pthread_create(&b, NULL, consumer, NULL);
  pthread_join(a, NULL);
  pthread_join(b, &sum);
  printf("sum = %ld\n", (long)sum);
  return 0;
}
