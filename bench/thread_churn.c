// thread_churn.c — the overhead benchmark's thread start cost: COUNT times, create
// a thread that returns at once and join it, one at a time, so the run is the
// fixed cost of a thread's start and exit (racetrap's thread state, its sampling
// set-up and teardown) and nothing else. Race-free.
//
//   thread_churn [count]     (default 20000)
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static void* nothing(void* arg) { return arg; }

int main(int argc, char** argv) {
  int count = argc > 1 ? atoi(argv[1]) : 20000;
  for (int i = 0; i < count; ++i) {
    pthread_t t;
    if (pthread_create(&t, NULL, nothing, NULL) != 0) {
      perror("pthread_create");
      return 1;
    }
    pthread_join(t, NULL);
  }
  return 0;
}
