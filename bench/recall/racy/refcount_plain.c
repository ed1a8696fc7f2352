// refcount_plain.c — a shared object's reference count is taken and dropped with
// plain increments and decrements by two threads (the author forgot it is shared):
// a write-write race on `refs`.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "deadline.h"

struct blob {
  volatile long refs;
  uint64_t data[8];
};

static struct blob* shared_blob;

static __attribute__((noinline)) void blob_ref(struct blob* b) { b->refs++; }  // RACE
static __attribute__((noinline)) void blob_unref(struct blob* b) { b->refs--; }  // RACE

static void* user(void* p) {
  struct deadline end = deadline_after(*(const double*)p);
  uint64_t sum = 0;
  while (before(&end)) {
    for (int i = 0; i < 256; i++) {
      blob_ref(shared_blob);
      sum += shared_blob->data[i & 7];
      blob_unref(shared_blob);
    }
  }
  return (void*)(uintptr_t)sum;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  shared_blob = calloc(1, sizeof *shared_blob);
  shared_blob->refs = 1;
  pthread_t a, b;
  pthread_create(&a, NULL, user, &seconds);
  pthread_create(&b, NULL, user, &seconds);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("refs %ld\n", shared_blob->refs);
  free(shared_blob);
  return 0;
}
