// free_handoff.c — race-free: ownership of shared data passes by create and join
// only. In each round main fills the data, creates a worker that transforms it in
// place, joins the worker and then reads the result. Rounds repeat for the duration.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "deadline.h"

#define WORDS 4096

static long table[WORDS];
static struct {
  long checksum;
  int round;
} summary;

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
