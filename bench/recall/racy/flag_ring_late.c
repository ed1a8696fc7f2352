// flag_ring_late.c — racy: the ring of free/flag_ring.c, but the producer sets
// a buffer's full flag before it fills the buffer, so the consumer reads data
// being written (write-read).
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
    __atomic_store_n(&s->full, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < kWords; ++i) s->data[i] = round ^ i;  // RACE
  }
}

static void* consumer(void* arg) {
  (void)arg;
  long sum = 0;
  for (unsigned k = 0;; ++k) {
    struct slot* s = &ring[k % kSlots];
    while (__atomic_load_n(&s->full, __ATOMIC_ACQUIRE) != 1) __builtin_ia32_pause();
    if (s->data[0] == -1) return (void*)sum;  // RACE
    for (int i = 0; i < kWords; ++i) sum += s->data[i];  // RACE
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
