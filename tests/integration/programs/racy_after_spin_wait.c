// racy_after_spin_wait.c — the racy access is the first one after a lock call in
// which its thread spends nearly all its CPU time: the waiter spins in
// pthread_spin_lock while the holder keeps the lock for long stretches, and once
// it has the lock increments a counter that a third thread, taking no lock,
// increments now and then between long stretches of private work. A sampling tick
// inside the lock call comes before its acquire; it is taken once the acquire is
// made (samples_postponed), and samples the increment.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "deadline.h"

static pthread_spinlock_t gate;
static long shared_count;
static double seconds = 1.0;

// Private work: its own array, so a sample in it watches bytes nobody else touches.
__attribute__((noinline)) static void private_work(volatile long* mine, int rounds) {
  for (int i = 0; i < rounds; i++) mine[i & 63] += i;
}

static void* holder(void* arg) {
  (void)arg;
  volatile long mine[64] = {0};
  struct deadline end = deadline_after(seconds);
  while (before(&end)) {
    pthread_spin_lock(&gate);
    private_work(mine, 20000);
    pthread_spin_unlock(&gate);
    private_work(mine, 200);  // the waiter takes the lock meanwhile
  }
  return NULL;
}

static void* waiter(void* arg) {
  (void)arg;
  struct deadline end = deadline_after(seconds);
  while (before(&end)) {
    pthread_spin_lock(&gate);
    shared_count++;  // RACE
    pthread_spin_unlock(&gate);
  }
  return NULL;
}

static void* unlocked_writer(void* arg) {
  (void)arg;
  volatile long mine[64] = {0};
  struct deadline end = deadline_after(seconds);
  while (before(&end)) {
    private_work(mine, 2000);
    shared_count += 2;  // RACE
  }
  return NULL;
}

int main(int argc, char** argv) {
  if (argc > 1) seconds = atof(argv[1]);
  pthread_spin_init(&gate, PTHREAD_PROCESS_PRIVATE);
  pthread_t h, w, u;
  pthread_create(&h, NULL, holder, NULL);
  pthread_create(&w, NULL, waiter, NULL);
  pthread_create(&u, NULL, unlocked_writer, NULL);
  pthread_join(h, NULL);
  pthread_join(w, NULL);
  pthread_join(u, NULL);
  printf("count = %ld\n", shared_count);
  return 0;
}
