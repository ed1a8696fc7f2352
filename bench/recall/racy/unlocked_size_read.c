// unlocked_size_read.c — a bounded queue is changed only under its mutex, but a
// monitoring thread reads its `count` without the lock to print a load figure:
// a read-write race on `count`.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "deadline.h"

static struct {
  pthread_mutex_t lock;
  uint64_t items[256];
  volatile unsigned count;
} queue = {PTHREAD_MUTEX_INITIALIZER, {0}, 0};

static void* producer_consumer(void* p) {
  struct deadline end = deadline_after(*(const double*)p);
  uint64_t h = 1;
  while (before(&end)) {
    for (int i = 0; i < 64; i++) {
      h = h * 6364136223846793005ull + 1;
      pthread_mutex_lock(&queue.lock);
      if ((h >> 63) && queue.count < 256) {
        queue.items[queue.count] = h;
        queue.count = queue.count + 1;  // RACE
      } else if (queue.count > 0) {
        queue.count = queue.count - 1;  // RACE
      }
      pthread_mutex_unlock(&queue.lock);
    }
  }
  return NULL;
}

static void* monitor(void* p) {
  struct deadline end = deadline_after(*(const double*)p);
  uint64_t load = 0;
  while (before(&end)) {
    for (int i = 0; i < 256; i++) {
      load = load * 7 / 8 + queue.count;  // RACE
    }
  }
  return (void*)(uintptr_t)load;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  pthread_t a, b;
  pthread_create(&a, NULL, producer_consumer, &seconds);
  pthread_create(&b, NULL, monitor, &seconds);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("count %u\n", queue.count);
  return 0;
}
