// free_thread_waves.c — race-free: waves of four threads, each wave created after
// the previous one was joined, so most threads run on the thread state (and clock
// storage) of a finished one. Each thread fills its own slot of an array for a few
// milliseconds of CPU and adds its result to a shared total under a mutex; the main
// thread reads the slots after the joins. Every access is ordered: by the mutex,
// or by thread creation and join.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "deadline.h"

enum { kThreads = 4 };

struct slot {
  long value;
  char pad[56];
};

static struct slot slots[kThreads];
static long total;
static pthread_mutex_t total_lock = PTHREAD_MUTEX_INITIALIZER;
static double wave_seconds;

static void* fill_slot(void* arg) {
  struct slot* s = arg;
  struct deadline end = deadline_after(wave_seconds);
  while (before(&end)) {
    for (int i = 0; i < 1000; i++) s->value = s->value * 3 + i;
  }
  pthread_mutex_lock(&total_lock);
  total += s->value & 0xff;
  pthread_mutex_unlock(&total_lock);
  return NULL;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  const int waves = 50;
  wave_seconds = seconds / waves;
  long seen = 0;
  for (int w = 0; w < waves; w++) {
    pthread_t t[kThreads];
    for (int i = 0; i < kThreads; i++) pthread_create(&t[i], NULL, fill_slot, &slots[i]);
    for (int i = 0; i < kThreads; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < kThreads; i++) seen += slots[i].value & 1;
  }
  printf("total = %ld, seen = %ld\n", total, seen);
  return 0;
}
