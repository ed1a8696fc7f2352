// racy_after_churn.c — write-write race between two threads started after 300
// short-lived threads were created and joined one at a time (each writes a slot
// the main thread reads after the join: ordered, no race). The racing threads run
// on thread states and clock storage kept from the finished ones, and the
// program first changes the default thread attributes (a 512 KiB stack), so the
// racing threads' stacks are computed from the new default.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "deadline.h"

static volatile long counter;
static long churn_slots[8];

static void* churn_once(void* arg) {
  long i = (long)arg;
  churn_slots[i % 8] += i;
  return NULL;
}

static void* increment_counter(void* arg) {
  struct deadline end = deadline_after(*(const double*)arg);
  while (before(&end)) {
    for (int i = 0; i < 1000; i++) {
      counter = counter + 1;  // RACE
    }
  }
  return NULL;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  pthread_attr_t defaults;
  pthread_attr_init(&defaults);
  pthread_attr_setstacksize(&defaults, 512 * 1024);
  if (pthread_setattr_default_np(&defaults) != 0) return 1;
  pthread_attr_destroy(&defaults);
  for (long i = 0; i < 300; i++) {
    pthread_t t;
    if (pthread_create(&t, NULL, churn_once, (void*)i) != 0) return 1;
    pthread_join(t, NULL);
  }
  long sum = 0;
  for (int i = 0; i < 8; i++) sum += churn_slots[i];
  pthread_t a, b;
  pthread_create(&a, NULL, increment_counter, &seconds);
  pthread_create(&b, NULL, increment_counter, &seconds);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("churn sum = %ld, counter = %ld\n", sum, counter);
  return 0;
}
