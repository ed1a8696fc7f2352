// racy_struct_field.c — a shared statistics struct: most fields are updated under
// the struct's mutex, but one field (`cache_hits`) is bumped outside it.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static double clock_seconds(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

// The loop runs until the calling thread has used `seconds` of CPU time (so a loaded machine
// still gets the same amount of work, hence the same number of samples), but
// never longer than 4x that in wall time. The clocks are read only every 64th
// call (reading a CPU-time clock is a system call).
struct deadline {
  double cpu_end, wall_end;
  unsigned countdown;
};

static struct deadline deadline_after(double seconds) {
  struct deadline d = {clock_seconds(CLOCK_THREAD_CPUTIME_ID) + seconds,
                       clock_seconds(CLOCK_MONOTONIC) + 4 * seconds, 0};
  return d;
}

static int before(struct deadline* d) {
  if (d->countdown-- > 0) return 1;
  d->countdown = 63;
  return clock_seconds(CLOCK_THREAD_CPUTIME_ID) < d->cpu_end &&
         clock_seconds(CLOCK_MONOTONIC) < d->wall_end;
}

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
