// racy_width.c — a race on a variable of RACE_TYPE (char, short, int or long: the
// build compiles this file once per width), placed right after a few bytes of
// padding so that narrow variables do not start on an 8-byte boundary.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "deadline.h"

#ifndef RACE_TYPE
#define RACE_TYPE int
#endif

static struct {
  char tag[3];
  volatile RACE_TYPE value;
  volatile RACE_TYPE neighbour;  // only the main thread touches this one
} shared;

static void* writer(void* arg) {
  struct deadline end = deadline_after(*(const double*)arg);
  unsigned round = 0;
  while (before(&end)) {
    for (unsigned i = 0; i < 1000; i++) {
      shared.value = (RACE_TYPE)(round + i);  // RACE
    }
    round++;
  }
  return NULL;
}

static void* reader_writer(void* arg) {
  struct deadline end = deadline_after(*(const double*)arg);
  long sum = 0;
  while (before(&end)) {
    for (unsigned i = 0; i < 1000; i++) {
      sum += shared.value;  // RACE
      if ((i & 63) == 0) shared.value = (RACE_TYPE)sum;  // RACE
    }
  }
  return (void*)sum;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  shared.neighbour = 1;
  pthread_t a, b;
  void* sum;
  pthread_create(&a, NULL, writer, &seconds);
  pthread_create(&b, NULL, reader_writer, &seconds);
  pthread_join(a, NULL);
  pthread_join(b, &sum);
  printf("sizeof=%zu offset=%zu sum=%ld neighbour=%ld\n", sizeof shared.value,
         (size_t)((char*)&shared.value - (char*)&shared), (long)sum, (long)shared.neighbour);
  return 0;
}
