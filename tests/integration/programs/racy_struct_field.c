// racy_struct_field.c — a shared statistics struct: most fields are updated under
// the struct's mutex, but one field (`cache_hits`) is bumped outside it.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deadline.h"

struct server_stats {
  pthread_mutex_t lock;
  long requests;
  long bytes;
  double load;
  char last_client[24];
  long cache_hits;  // the one raced field
  int generation;
};

static struct server_stats stats = {.lock = PTHREAD_MUTEX_INITIALIZER};

struct worker_args {
  const char* name;
  double seconds;
};

static void record_request(const char* client, long size) {
  pthread_mutex_lock(&stats.lock);
  stats.requests++;
  stats.bytes += size;
  stats.load = stats.load * 0.9 + size * 0.1;
  strncpy(stats.last_client, client, sizeof stats.last_client - 1);
  stats.generation++;
  pthread_mutex_unlock(&stats.lock);
}

static void* serve(void* arg) {
  const struct worker_args* w = arg;
  struct deadline end = deadline_after(w->seconds);
  long size = 1;
  while (before(&end)) {
    for (int i = 0; i < 200; i++) {
      record_request(w->name, size);
      stats.cache_hits++;  // RACE
      size = (size * 7 + 3) % 4096;
    }
  }
  return NULL;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  struct worker_args wa = {"alpha", seconds}, wb = {"beta", seconds};
  pthread_t a, b;
  pthread_create(&a, NULL, serve, &wa);
  pthread_create(&b, NULL, serve, &wb);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("requests=%ld bytes=%ld hits=%ld last=%s gen=%d\n", stats.requests, stats.bytes,
         stats.cache_hits, stats.last_client, stats.generation);
  return 0;
}
