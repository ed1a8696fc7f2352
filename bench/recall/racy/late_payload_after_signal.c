// late_payload_after_signal.c — a producer announces a new item under the mutex
// and signals the condition variable, but writes the item's payload only after
// unlocking; the consumer wakes, leaves the lock and reads the payload: the
// payload read races with the late payload write.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "deadline.h"

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static long announced, consumed_up_to;
static int finished;
static volatile uint64_t payload;

static void* producer(void* p) {
  struct deadline end = deadline_after(*(const double*)p);
  uint64_t h = 1;
  while (before(&end)) {
    pthread_mutex_lock(&m);
    announced++;
    pthread_cond_signal(&c);
    pthread_mutex_unlock(&m);
    for (int k = 0; k < 64; k++) {
      h = h * 6364136223846793005ull + 1;
      payload = h;  // RACE
    }
  }
  pthread_mutex_lock(&m);
  finished = 1;
  pthread_cond_signal(&c);
  pthread_mutex_unlock(&m);
  return NULL;
}

static void* consumer(void* p) {
  (void)p;
  uint64_t sum = 0;
  for (;;) {
    pthread_mutex_lock(&m);
    while (announced == consumed_up_to && !finished) pthread_cond_wait(&c, &m);
    int stop = finished;
    consumed_up_to = announced;
    pthread_mutex_unlock(&m);
    if (stop) break;
    for (int k = 0; k < 64; k++) sum += payload;  // RACE
  }
  return (void*)(uintptr_t)sum;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  pthread_t a, b;
  pthread_create(&a, NULL, producer, &seconds);
  pthread_create(&b, NULL, consumer, &seconds);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("announced %ld\n", announced);
  return 0;
}
