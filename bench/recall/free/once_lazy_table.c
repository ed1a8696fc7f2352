// once_lazy_table.c — race-free lazy initialization: two threads look up a table
// that pthread_once builds on first use; every read is ordered after the
// initializer's writes by pthread_once.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "deadline.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static uint64_t table[256];

static void build_table(void) {
  for (int i = 0; i < 256; i++) table[i] = (uint64_t)i * 0x9e3779b97f4a7c15ull;
}

static void* user(void* p) {
  struct deadline end = deadline_after(*(const double*)p);
  uint64_t h = 1, sum = 0;
  while (before(&end)) {
    for (int i = 0; i < 256; i++) {
      pthread_once(&once, build_table);
      h = h * 6364136223846793005ull + 1;
      sum += table[h >> 56];
    }
  }
  return (void*)(uintptr_t)sum;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  pthread_t a, b;
  pthread_create(&a, NULL, user, &seconds);
  pthread_create(&b, NULL, user, &seconds);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("%llu\n", (unsigned long long)table[255]);
  return 0;
}
