// racy_string_copy.c — a write-read race through memcpy: one thread copies 4 KiB
// blocks into a shared buffer with memcpy while the other sums the buffer's bytes,
// without synchronization. The reader's samples are watched by the writer, whose
// memcpy then runs with a debug register armed, so racetrap's copy without
// fast-string instructions does the write (and traps on the watched bytes).
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deadline.h"

#define BLOCK 4096

static unsigned char shared[BLOCK];
static unsigned char source[2][BLOCK];
static volatile unsigned long total;

static void* copy_blocks(void* arg) {
  struct deadline end = deadline_after(*(const double*)arg);
  unsigned round = 0;
  while (before(&end)) {
    // A length known only at run time (and -fno-builtin): a call of memcpy, not
    // a copy inlined by the compiler.
    const size_t n = BLOCK - (++round & 7);
    memcpy(shared, source[round & 1], n);  // RACE
  }
  return NULL;
}

static void* sum_blocks(void* arg) {
  struct deadline end = deadline_after(*(const double*)arg);
  unsigned long sum = 0;
  while (before(&end)) {
    for (int i = 0; i < BLOCK; i += 8) sum += shared[i];  // RACE
  }
  total = sum;
  return NULL;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  for (int i = 0; i < BLOCK; ++i) {
    source[0][i] = (unsigned char)i;
    source[1][i] = (unsigned char)(i * 3);
  }
  pthread_t a, b;
  pthread_create(&a, NULL, copy_blocks, &seconds);
  pthread_create(&b, NULL, sum_blocks, &seconds);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("total = %lu\n", total);
  return 0;
}
