// struct_snapshot_memcpy.c — a reporter thread copies a shared statistics struct
// with memcpy while the worker keeps updating its fields with plain stores: the
// copy's reads race with the field writes.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deadline.h"

struct stats {
  uint64_t packets;
  uint64_t bytes;
  uint64_t drops;
  uint64_t last_size;
};

static struct stats live;
static int stop;  // atomic

static void* worker(void* p) {
  struct deadline end = deadline_after(*(const double*)p);
  uint64_t h = 9;
  while (before(&end)) {
    for (int i = 0; i < 256; i++) {
      h = h * 6364136223846793005ull + 1;
      live.packets++;  // RACE
      live.bytes += h >> 54;
      live.last_size = h >> 54;
      __asm__ volatile("" ::: "memory");
    }
  }
  __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
  return NULL;
}

static void* reporter(void* p) {
  (void)p;
  struct stats copy;
  uint64_t seen = 0;
  while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
    memcpy(&copy, &live, sizeof copy);  // RACE
    __asm__ volatile("" : : "r"(&copy) : "memory");
    seen += copy.packets;
  }
  return (void*)(uintptr_t)seen;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  pthread_t a, b;
  pthread_create(&a, NULL, worker, &seconds);
  pthread_create(&b, NULL, reporter, &seconds);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("packets %llu\n", (unsigned long long)live.packets);
  return 0;
}
