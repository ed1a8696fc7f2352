// flag_publish_struct.c — race-free: a producer fills a struct payload, then
// publishes it with a release store of ready = 1; the consumer spins on an
// acquire load (plain MOV) of ready, reads the payload, and hands it back with
// a release store of ready = 0, which the producer spins on before the next
// round. Synchronization: the hand-written flag only.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "deadline.h"

struct message {
  long round;
  long values[1000];
  long checksum;
};

static struct message payload;

static int ready;  // 0: the producer may write the payload, 1: the consumer may read it

static void fill(struct message* m, long round) {
  m->round = round;
  long sum = 0;
  for (int i = 0; i < 1000; ++i) {
    m->values[i] = round * 1001 + i;
    sum += m->values[i];
  }
  m->checksum = sum;
}

static long drain(const struct message* m) {
  long sum = 0;
  for (int i = 0; i < 1000; ++i) sum += m->values[i];
  return sum == m->checksum ? m->round : -1;
}

static void* producer(void* arg) {
  struct deadline end = deadline_after(*(const double*)arg);
  for (long round = 1; before(&end); ++round) {
    while (__atomic_load_n(&ready, __ATOMIC_ACQUIRE) != 0) __builtin_ia32_pause();
    fill(&payload, round);
    __atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
  }
  // The end: an empty message (round 0), written before it is published.
  while (__atomic_load_n(&ready, __ATOMIC_ACQUIRE) != 0) __builtin_ia32_pause();
  payload.round = 0;
  __atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
  return NULL;
}

static void* consumer(void* arg) {
  (void)arg;
  long bad = 0;
  for (;;) {
    while (__atomic_load_n(&ready, __ATOMIC_ACQUIRE) != 1) __builtin_ia32_pause();
    if (payload.round == 0) return (void*)bad;
    if (drain(&payload) < 0) ++bad;
    __atomic_store_n(&ready, 0, __ATOMIC_RELEASE);
  }
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  pthread_t a, b;
  void* bad = NULL;
  pthread_create(&a, NULL, producer, &seconds);
  pthread_create(&b, NULL, consumer, NULL);
  pthread_join(a, NULL);
  pthread_join(b, &bad);
  printf("torn messages: %ld\n", (long)bad);
  return 0;
}
