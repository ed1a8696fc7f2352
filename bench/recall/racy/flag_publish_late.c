// flag_publish_late.c — racy: the flag handoff of free/flag_publish_struct.c,
// but the producer stores ready = 1 first and writes the payload after it, so
// the consumer reads the payload while it is being written (write-read).
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
  m->round = round; // RACE
  long sum = 0;
  for (int i = 0; i < 1000; ++i) {
    m->values[i] = round * 1001 + i; // RACE
    sum += m->values[i];
  }
  m->checksum = sum; // RACE
}

static long drain(const struct message* m) {
  long sum = 0;
  for (int i = 0; i < 1000; ++i) sum += m->values[i]; // RACE
  return sum == m->checksum ? m->round : -1; // RACE
}

static void* producer(void* arg) {
  struct deadline end = deadline_after(*(const double*)arg);
  for (long round = 1; before(&end); ++round) {
    while (__atomic_load_n(&ready, __ATOMIC_ACQUIRE) != 0) __builtin_ia32_pause();
    __atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
    fill(&payload, round);
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
    if (payload.round == 0) return (void*)bad;  // RACE
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
