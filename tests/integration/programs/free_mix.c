// free_mix.c — race-free: four workers, each with its own slot of a shared array of
// per-thread state (neighbouring slots share cache lines but never bytes), plus a
// word-count hash table shared by all of them and guarded by one mutex.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deadline.h"

#define WORKERS 4
#define BUCKETS 512

struct worker_state {
  int id;
  unsigned seed;
  long local_hist[16];
  long inserts;
  double seconds;
};

struct entry {
  uint32_t key;
  long count;
};

static struct worker_state workers[WORKERS];
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry table[BUCKETS];
static long table_size;

static void table_add(uint32_t key) {
  pthread_mutex_lock(&table_lock);
  uint32_t b = (key * 2654435761u) % BUCKETS;
  while (table[b].count != 0 && table[b].key != key) b = (b + 1) % BUCKETS;
  if (table[b].count == 0) {
    table[b].key = key;
    table_size++;
  }
  table[b].count++;
  pthread_mutex_unlock(&table_lock);
}

static void* work(void* arg) {
  struct worker_state* me = arg;
  struct deadline end = deadline_after(me->seconds);
  while (before(&end)) {
    for (int i = 0; i < 500; i++) {
      me->seed = me->seed * 1103515245u + 12345u;
      me->local_hist[(me->seed >> 16) % 16]++;
      if ((me->seed >> 8) % 8 == 0) {
        table_add((me->seed >> 12) % 300);  // at most 300 keys: never fills
        me->inserts++;
      }
    }
  }
  return NULL;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  pthread_t threads[WORKERS];
  for (int i = 0; i < WORKERS; i++) {
    workers[i].id = i;
    workers[i].seed = 17u * (unsigned)i + 1u;
    workers[i].seconds = seconds;
    pthread_create(&threads[i], NULL, work, &workers[i]);
  }
  for (int i = 0; i < WORKERS; i++) pthread_join(threads[i], NULL);
  long inserts = 0, counted = 0;
  for (int i = 0; i < WORKERS; i++) inserts += workers[i].inserts;
  for (int b = 0; b < BUCKETS; b++) counted += table[b].count;
  printf("%ld inserts, %ld counted, %ld keys\n", inserts, counted, table_size);
  return inserts == counted ? 0 : 1;
}
