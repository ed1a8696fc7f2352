// symbolize.c — one program per report kind, built by several compilers and
// DWARF flavours (tests/report/meson.build: clang -O1 -g, which emits no
// .debug_aranges; gcc -gdwarf-5 and -gsplit-dwarf with .debug_aranges removed),
// to check that each report names file:line:column and inlined calls.
//   race        two threads increment a counter in an always-inlined function
//   lock-order  T1 takes A then B, T2 (after T1 ended) B then A
//   misuse      unlock of a mutex nobody holds
// Marked lines: `// RACE` (the racy access, inside the inlined function), `// CALL`
// (its call site), `// EDGE` (the second lock of an edge), `// MISUSE`.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../integration/programs/deadline.h"

static volatile long counter;
static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t unheld = PTHREAD_MUTEX_INITIALIZER;

static inline __attribute__((always_inline)) void bump(void) {
  counter = counter + 1;  // RACE
}

static void* race_loop(void* arg) {
  struct deadline end = deadline_after(*(const double*)arg);
  while (before(&end)) {
    for (int i = 0; i < 1000; i++) bump();  // CALL
  }
  return NULL;
}

static void* a_then_b(void* arg) {
  (void)arg;
  pthread_mutex_lock(&lock_a);
  pthread_mutex_lock(&lock_b);  // EDGE
  counter++;
  pthread_mutex_unlock(&lock_b);
  pthread_mutex_unlock(&lock_a);
  return NULL;
}

static void* b_then_a(void* arg) {
  (void)arg;
  pthread_mutex_lock(&lock_b);
  pthread_mutex_lock(&lock_a);  // EDGE
  counter++;
  pthread_mutex_unlock(&lock_a);
  pthread_mutex_unlock(&lock_b);
  return NULL;
}

static void run_threads(void* (*first)(void*), void* (*second)(void*), void* arg, int together) {
  pthread_t t1, t2;
  pthread_create(&t1, NULL, first, arg);
  if (!together) pthread_join(t1, NULL);
  pthread_create(&t2, NULL, second, arg);
  if (together) pthread_join(t1, NULL);
  pthread_join(t2, NULL);
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "race";
  double seconds = argc > 2 ? atof(argv[2]) : 1.0;
  if (strcmp(mode, "race") == 0) {
    run_threads(race_loop, race_loop, &seconds, 1);
  } else if (strcmp(mode, "lock-order") == 0) {
    run_threads(a_then_b, b_then_a, NULL, 0);
  } else if (strcmp(mode, "misuse") == 0) {
    pthread_mutex_unlock(&unheld);  // MISUSE
  } else {
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
  }
  printf("counter = %ld\n", counter);
  return 0;
}
