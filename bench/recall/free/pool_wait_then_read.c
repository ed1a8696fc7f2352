// pool_wait_then_read.c — race-free: a submitter hands batches of tasks to 2 pool
// workers through a mutex and condition variable, waits on the condition variable
// until the batch's completion count (kept under the mutex) is full, and only then
// reads the results.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "deadline.h"

#define TASKS 64

static uint64_t inputs[TASKS], results[TASKS];
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER, done = PTHREAD_COND_INITIALIZER;
static int next_task = TASKS, completed = TASKS, stop;

static void* pool_worker(void* p) {
  (void)p;
  for (;;) {
    pthread_mutex_lock(&m);
    while (next_task >= TASKS && !stop) pthread_cond_wait(&work, &m);
    if (next_task >= TASKS) {
      pthread_mutex_unlock(&m);
      return NULL;
    }
    int i = next_task++;
    pthread_mutex_unlock(&m);
    uint64_t h = inputs[i];
    for (int k = 0; k < 2000; k++) h = h * 6364136223846793005ull + 1442695040888963407ull;
    results[i] = h;
    pthread_mutex_lock(&m);
    if (++completed == TASKS) pthread_cond_signal(&done);
    pthread_mutex_unlock(&m);
  }
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  pthread_t w[2];
  for (int i = 0; i < 2; i++) pthread_create(&w[i], NULL, pool_worker, NULL);
  struct deadline end = deadline_after(seconds / 4);
  end.wall_end = clock_seconds(CLOCK_MONOTONIC) + 2 * seconds;
  uint64_t sum = 0, batch = 0;
  while (before(&end)) {
    pthread_mutex_lock(&m);
    batch++;
    for (int i = 0; i < TASKS; i++) inputs[i] = batch * TASKS + (uint64_t)i;
    completed = 0;
    next_task = 0;
    pthread_cond_broadcast(&work);
    while (completed < TASKS) pthread_cond_wait(&done, &m);
    pthread_mutex_unlock(&m);
    for (int i = 0; i < TASKS; i++) sum += results[i];
  }
  pthread_mutex_lock(&m);
  stop = 1;
  pthread_cond_broadcast(&work);
  pthread_mutex_unlock(&m);
  for (int i = 0; i < 2; i++) pthread_join(w[i], NULL);
  printf("sum %llu batches %llu\n", (unsigned long long)sum, (unsigned long long)batch);
  return 0;
}
