// free_handoff.c — race-free: ownership of shared data passes by create and join
// only. In each round main fills the data, creates a worker that transforms it in
// place, joins the worker and then reads the result. Rounds repeat for the duration.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define WORDS 4096

static long table[WORDS];
static struct {
  long checksum;
  int round;
} summary;

static double clock_seconds(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

// The loop runs until the process has used `seconds` of CPU time (so a loaded machine
// still gets the same amount of work, hence the same number of samples), but
// never longer than 4x that in wall time. The clocks are read only every 64th
// call (reading a CPU-time clock is a system call).
struct deadline {
  double cpu_end, wall_end;
  unsigned countdown;
};

static struct deadline deadline_after(double seconds) {
  struct deadline d = {clock_seconds(CLOCK_PROCESS_CPUTIME_ID) + seconds,
                       clock_seconds(CLOCK_MONOTONIC) + 4 * seconds, 0};
  return d;
}

static int before(struct deadline* d) {
  if (d->countdown-- > 0) return 1;
  d->countdown = 63;
  return clock_seconds(CLOCK_PROCESS_CPUTIME_ID) < d->cpu_end &&
         clock_seconds(CLOCK_MONOTONIC) < d->wall_end;
}

static void* transform(void* arg) {
  long* heap_copy = arg;
  for (int pass = 0; pass < 20; pass++) {
    for (int i = 0; i < WORDS; i++) {
      table[i] = table[i] * 3 + heap_copy[(i + pass) % WORDS];
      heap_copy[i] ^= table[i];
    }
  }
  summary.checksum += table[summary.round % WORDS];
  summary.round++;
  return NULL;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  struct deadline end = deadline_after(seconds);
  long total = 0;
  int rounds = 0;
  while (before(&end)) {
    long* heap_copy = malloc(WORDS * sizeof *heap_copy);
    for (int pass = 0; pass < 10; pass++) {
      for (int i = 0; i < WORDS; i++) {
        table[i] = i + pass + rounds;
        heap_copy[i] = table[i] * 2;
      }
    }
    pthread_t worker;
    pthread_create(&worker, NULL, transform, heap_copy);
    pthread_join(worker, NULL);
    for (int i = 0; i < WORDS; i++) total += table[i] + heap_copy[i];
    total += summary.checksum;
    free(heap_copy);
    rounds++;
  }
  printf("%d rounds, total %ld, worker rounds %d\n", rounds, total, summary.round);
  return summary.round == rounds ? 0 : 1;
}
