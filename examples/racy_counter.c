// racy_counter.c — two threads bump one counter without a lock.
// `racetrap run -- build/examples/racy_counter` reports the race on `counter`.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile long counter;

static double seconds_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void* bump_counter(void* arg) {
  double seconds = *(const double*)arg;
  double end = seconds_now() + seconds;
  while (seconds_now() < end) {
    for (int i = 0; i < 10000; i++) counter = counter + 1;  // the racy access
  }
  return NULL;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  pthread_t a, b;
  pthread_create(&a, NULL, bump_counter, &seconds);
  pthread_create(&b, NULL, bump_counter, &seconds);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("counter = %ld\n", counter);
  return 0;
}
