// cpu_spin.c — a CPU-bound race-free program for the overhead side of the
// detection sweep: two threads each hash a private buffer for SECONDS of wall
// time and count rounds; the rounds done are the work rate (more is better).
//
//   cpu_spin [seconds]      prints "rounds N"
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double seconds_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct job {
  double seconds;
  uint64_t rounds;
  uint64_t buffer[512];
};

static void* spin(void* arg) {
  struct job* j = arg;
  double end = seconds_now() + j->seconds;
  uint64_t h = (uint64_t)(uintptr_t)j;
  while (seconds_now() < end) {
    for (int i = 0; i < 4096; i++) {
      h ^= h << 13;
      h ^= h >> 7;
      h ^= h << 17;
      j->buffer[i & 511] += h;
    }
    j->rounds++;
  }
  return NULL;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  static struct job jobs[2];
  pthread_t t[2];
  for (int i = 0; i < 2; i++) {
    jobs[i].seconds = seconds;
    pthread_create(&t[i], NULL, spin, &jobs[i]);
  }
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  printf("rounds %llu\n", (unsigned long long)(jobs[0].rounds + jobs[1].rounds));
  return 0;
}
