// two_threads.h — the byte-checking race-free programs' frame: the same work in
// two threads, each given its index (into the program's own per-thread buffers)
// and how long to run (deadline.h), both joined before the program checks.
#pragma once

#include <pthread.h>

struct thread_arg {
  int index;
  double seconds;
};

static inline void run_in_two_threads(void* (*work)(void*), double seconds) {
  struct thread_arg args[2] = {{0, seconds}, {1, seconds}};
  pthread_t threads[2];
  for (int i = 0; i < 2; i++) pthread_create(&threads[i], NULL, work, &args[i]);
  for (int i = 0; i < 2; i++) pthread_join(threads[i], NULL);
}
