// racy_ww_counter.c — write-write race: two threads increment one long counter
// without any synchronization.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "deadline.h"

static volatile long counter;

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
  pthread_t a, b;
  pthread_create(&a, NULL, increment_counter, &seconds);
  pthread_create(&b, NULL, increment_counter, &seconds);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("counter = %ld\n", counter);
  return 0;
}
