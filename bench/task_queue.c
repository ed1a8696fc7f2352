// task_queue.c — the overhead benchmark's thread-pool program: one producer hands
// TASKS small tasks to WORKERS threads through a bounded queue (one mutex, two
// condition variables), the shape of a server's or a task runtime's worker pool.
// Each task is a few hundred instructions of private work; the queue's lock, waits
// and signals are what racetrap's interposers see. Race-free.
//
//   task_queue [tasks] [workers]     (default 1000000 2)
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define CAPACITY 64
#define MAX_WORKERS 64

static struct {
  pthread_mutex_t mutex;
  pthread_cond_t not_empty, not_full;
  uint64_t items[CAPACITY];
  int head, count, closed;
} queue = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, 0, 0, 0};

static pthread_mutex_t total_mutex = PTHREAD_MUTEX_INITIALIZER;
static uint64_t total;

static void* worker(void* arg) {
  (void)arg;
  uint64_t sum = 0;
  for (;;) {
    pthread_mutex_lock(&queue.mutex);
    while (queue.count == 0 && !queue.closed) pthread_cond_wait(&queue.not_empty, &queue.mutex);
    if (queue.count == 0) {  // closed and drained
      pthread_mutex_unlock(&queue.mutex);
      break;
    }
    uint64_t task = queue.items[queue.head];
    queue.head = (queue.head + 1) % CAPACITY;
    queue.count--;
    pthread_cond_signal(&queue.not_full);
    pthread_mutex_unlock(&queue.mutex);
    for (int i = 0; i < 200; i++) task = task * 6364136223846793005ull + 1442695040888963407ull;  // the task
    sum += task >> 32;
  }
  pthread_mutex_lock(&total_mutex);
  total += sum;
  pthread_mutex_unlock(&total_mutex);
  return NULL;
}

int main(int argc, char** argv) {
  const long tasks = argc > 1 ? atol(argv[1]) : 1000000;
  int workers = argc > 2 ? atoi(argv[2]) : 2;
  if (workers < 1) workers = 1;
  if (workers > MAX_WORKERS) workers = MAX_WORKERS;
  pthread_t threads[MAX_WORKERS];
  for (int i = 0; i < workers; i++) pthread_create(&threads[i], NULL, worker, NULL);
  for (long n = 0; n < tasks; n++) {
    pthread_mutex_lock(&queue.mutex);
    while (queue.count == CAPACITY) pthread_cond_wait(&queue.not_full, &queue.mutex);
    queue.items[(queue.head + queue.count) % CAPACITY] = (uint64_t)n;
    queue.count++;
    pthread_cond_signal(&queue.not_empty);
    pthread_mutex_unlock(&queue.mutex);
  }
  pthread_mutex_lock(&queue.mutex);
  queue.closed = 1;
  pthread_cond_broadcast(&queue.not_empty);
  pthread_mutex_unlock(&queue.mutex);
  for (int i = 0; i < workers; i++) pthread_join(threads[i], NULL);
  printf("%d workers, checksum %llu\n", workers, (unsigned long long)total);
  return 0;
}
