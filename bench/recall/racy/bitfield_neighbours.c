// bitfield_neighbours.c — two threads update different bit-fields that share one
// byte: each update is a read-modify-write of the whole byte, so the two threads'
// writes conflict (a write-write race on one memory location, C11 5.1.2.4).
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "deadline.h"

static struct {
  unsigned low : 4;
  unsigned high : 4;
} volatile nibbles;

static void* low_writer(void* p) {
  struct deadline end = deadline_after(*(const double*)p);
  while (before(&end)) {
    for (int i = 0; i < 1024; i++) nibbles.low = i;  // RACE
  }
  return NULL;
}

static void* high_writer(void* p) {
  struct deadline end = deadline_after(*(const double*)p);
  while (before(&end)) {
    for (int i = 0; i < 1024; i++) nibbles.high = i >> 2;  // RACE
  }
  return NULL;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  pthread_t a, b;
  pthread_create(&a, NULL, low_writer, &seconds);
  pthread_create(&b, NULL, high_writer, &seconds);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("%u %u\n", nibbles.low, nibbles.high);
  return 0;
}
