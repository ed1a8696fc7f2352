// racy_inherited_clock.c — write-write race between two threads that start with
// the sampling clock they inherit at their clone: the main thread first starts a
// thread (so racetrap watches it) and uses CPU for several sample periods (so its
// clock is open, and inheritable), then creates a spawner thread, which creates
// the two racing threads (the clock passed on twice). The race is found only if
// those inherited clocks sample the racing threads: the main and spawner threads
// never touch the counter.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "deadline.h"

static volatile long counter;
static volatile unsigned long spin_sink;

static void* nothing(void* arg) { return arg; }

static void* increment_counter(void* arg) {
  struct deadline end = deadline_after(*(const double*)arg);
  while (before(&end)) {
    for (int i = 0; i < 1000; i++) {
      counter = counter + 1;  // RACE
    }
  }
  return NULL;
}

static void* spawn_racers(void* arg) {
  pthread_t a, b;
  pthread_create(&a, NULL, increment_counter, arg);
  pthread_create(&b, NULL, increment_counter, arg);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  return NULL;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  pthread_t t;
  pthread_create(&t, NULL, nothing, NULL);  // the process's second thread: the main thread is watched from here
  pthread_join(t, NULL);
  struct deadline warm = deadline_after(0.05);  // 50 ms of CPU: many sample periods at any test rate
  while (before(&warm)) spin_sink = spin_sink + 1;
  pthread_create(&t, NULL, spawn_racers, &seconds);
  pthread_join(t, NULL);
  printf("counter = %ld\n", counter);
  return 0;
}
