// pool_result_before_counter.c — a tiny thread pool: the submitter hands a batch
// of tasks to 2 workers through a mutex-protected queue; each worker writes the
// task's result and then bumps the batch's completion counter with an atomic
// increment. The submitter reads the results in a loop *before* the completion
// counter says the batch is done (it waits for the counter only afterwards): the
// result reads race with the workers' result writes.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "deadline.h"

#define TASKS 64

struct task {
  uint64_t input;
  volatile uint64_t result;
};

static struct task tasks[TASKS];
static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_cond = PTHREAD_COND_INITIALIZER;
static int next_task = TASKS, batch_id;
static int stop;
static int completed;  // atomic

static void* pool_worker(void* p) {
  (void)p;
  for (;;) {
    pthread_mutex_lock(&queue_lock);
    while (next_task >= TASKS && !stop) pthread_cond_wait(&queue_cond, &queue_lock);
    if (stop && next_task >= TASKS) {
      pthread_mutex_unlock(&queue_lock);
      return NULL;
    }
    struct task* t = &tasks[next_task++];
    pthread_mutex_unlock(&queue_lock);
    uint64_t h = t->input;
    for (int k = 0; k < 2000; k++) h = h * 6364136223846793005ull + 1442695040888963407ull;
    t->result = h;  // RACE
    __atomic_fetch_add(&completed, 1, __ATOMIC_RELEASE);
  }
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  pthread_t w[2];
  for (int i = 0; i < 2; i++) pthread_create(&w[i], NULL, pool_worker, NULL);
  struct deadline end = deadline_after(seconds);
  uint64_t sum = 0;
  while (before(&end)) {
    pthread_mutex_lock(&queue_lock);
    batch_id++;
    for (int i = 0; i < TASKS; i++) tasks[i].input = (uint64_t)batch_id * TASKS + (uint64_t)i;
    __atomic_store_n(&completed, 0, __ATOMIC_RELAXED);
    next_task = 0;
    pthread_cond_broadcast(&queue_cond);
    pthread_mutex_unlock(&queue_lock);
    // Bug: peeks at the results while the batch is still running.
    for (int spin = 0; spin < 50; spin++)
      for (int i = 0; i < TASKS; i++) sum += tasks[i].result;  // RACE
    while (__atomic_load_n(&completed, __ATOMIC_ACQUIRE) < TASKS) {
    }
  }
  pthread_mutex_lock(&queue_lock);
  stop = 1;
  pthread_cond_broadcast(&queue_cond);
  pthread_mutex_unlock(&queue_lock);
  for (int i = 0; i < 2; i++) pthread_join(w[i], NULL);
  printf("sum %llu batches %d\n", (unsigned long long)sum, batch_id);
  return 0;
}
