// memory_location.c — two threads race on one long in memory of the kind argv[1]
// names, so the report can say whose memory it is:
//   thread-stack  a local of thread T1, written by T1 and T2
//   tls           a __thread variable of T1, written by T1 and T2
//   main-stack    a local of the main thread, written by main and T1
//   idle-stack    a local of T1, which only lends it: written by T2 and T3
//   small-stack   as thread-stack, T1 created with a 64 KiB stack and no guard page
//   own-stack     as thread-stack, T1 running on a stack the program supplies
//                 (pthread_attr_setstack, 1 MiB from malloc, not page-aligned in size)
// argv[2]: seconds of CPU time each racing thread runs (default 1). With argv[3]
// "_exit" the program ends with _exit(0), which leaves its raw stream for
// `racetrap report` (tests of offline symbolization).
// The pointer is handed over before a barrier (an ordering racetrap sees), so the
// only race is on the long itself; the owner waits at a second barrier until the
// other thread is done with its memory.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../integration/programs/deadline.h"

static pthread_barrier_t handed_over, finished;
static volatile long* shared;
static double seconds = 1.0;
static __thread volatile long owner_tls;

static __attribute__((noinline)) void race_on(volatile long* p) {
  struct deadline end = deadline_after(seconds);
  while (before(&end)) {
    for (int i = 0; i < 1000; i++) {
      *p = *p + 1;  // RACE
    }
  }
}

// The thread whose memory it is: hands it over, races, keeps it alive.
static void own_and_race(volatile long* mine) {
  shared = mine;
  pthread_barrier_wait(&handed_over);
  race_on(mine);
  pthread_barrier_wait(&finished);
}

static void* other_thread(void* arg) {
  (void)arg;
  pthread_barrier_wait(&handed_over);
  race_on(shared);
  pthread_barrier_wait(&finished);
  return NULL;
}

static void* stack_owner(void* arg) {
  (void)arg;
  volatile long local = 0;
  own_and_race(&local);
  return NULL;
}

// Lends a local to the other threads without touching it while they race on it.
static void* idle_stack_owner(void* arg) {
  (void)arg;
  volatile long local = 0;
  shared = &local;
  pthread_barrier_wait(&handed_over);
  pthread_barrier_wait(&finished);
  return NULL;
}

static void* tls_owner(void* arg) {
  (void)arg;
  own_and_race(&owner_tls);
  return NULL;
}

int main(int argc, char** argv) {
  const char* kind = argc > 1 ? argv[1] : "thread-stack";
  if (argc > 2) seconds = atof(argv[2]);
  int parties = strcmp(kind, "idle-stack") == 0 ? 3 : 2;
  pthread_barrier_init(&handed_over, NULL, parties);
  pthread_barrier_init(&finished, NULL, parties);
  pthread_t owner, other, third;
  if (strcmp(kind, "idle-stack") == 0) {
    pthread_create(&owner, NULL, idle_stack_owner, NULL);  // T1
    pthread_create(&other, NULL, other_thread, NULL);      // T2
    pthread_create(&third, NULL, other_thread, NULL);      // T3
    pthread_join(owner, NULL);
    pthread_join(other, NULL);
    pthread_join(third, NULL);
  } else if (strcmp(kind, "main-stack") == 0) {
    volatile long local = 0;
    pthread_create(&other, NULL, other_thread, NULL);  // T1
    own_and_race(&local);
    pthread_join(other, NULL);
  } else {
    int tls = strcmp(kind, "tls") == 0;
    int small = strcmp(kind, "small-stack") == 0, own = strcmp(kind, "own-stack") == 0;
    if (!tls && !small && !own && strcmp(kind, "thread-stack") != 0) {
      fprintf(stderr, "usage: %s thread-stack|tls|main-stack|idle-stack|small-stack|own-stack [seconds] [_exit]\n",
              argv[0]);
      return 2;
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    if (small) {
      pthread_attr_setstacksize(&attr, 64 * 1024);
      pthread_attr_setguardsize(&attr, 0);
    }
    if (own) {
      const size_t size = (1u << 20) + 3000;
      pthread_attr_setstack(&attr, malloc(size + 64), size);
    }
    pthread_create(&owner, &attr, tls ? tls_owner : stack_owner, NULL);  // T1
    pthread_attr_destroy(&attr);
    pthread_create(&other, NULL, other_thread, NULL);                   // T2
    pthread_join(owner, NULL);
    pthread_join(other, NULL);
  }
  if (argc > 3 && strcmp(argv[3], "_exit") == 0) _exit(0);
  return 0;
}
