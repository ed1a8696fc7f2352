// ticket_lock.c — race-free: ticket lock: a ticket taken with LOCK XADD on
// next_ticket, a spin on now_serving (acquire load, plain MOV) until it is ours,
// release by a release store of now_serving + 1. Synchronization: the hand-written
// ticket lock only.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "deadline.h"

static unsigned next_ticket;
static unsigned now_serving;

static void lock(void) {
  const unsigned ticket = __atomic_fetch_add(&next_ticket, 1, __ATOMIC_RELAXED);
  while (__atomic_load_n(&now_serving, __ATOMIC_ACQUIRE) != ticket) __builtin_ia32_pause();
}
static void unlock(void) { __atomic_store_n(&now_serving, now_serving + 1, __ATOMIC_RELEASE); }

static long table[16];

static void* worker(void* arg) {
  struct deadline end = deadline_after(*(const double*)arg);
  unsigned long h = (unsigned long)&end;
  while (before(&end)) {
    lock();
    for (int i = 0; i < 16; ++i) table[i] += (long)(h >> i) & 7;
    unlock();
    for (int spin = 0; spin < 64; ++spin) h = h * 6364136223846793005ull + 1442695040888963407ull;
  }
  return NULL;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  pthread_t a, b;
  pthread_create(&a, NULL, worker, &seconds);
  pthread_create(&b, NULL, worker, &seconds);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  long sum = 0;
  for (int i = 0; i < 16; ++i) sum += table[i];
  printf("sum = %ld\n", sum);
  return 0;
}
