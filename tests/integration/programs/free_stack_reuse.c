// free_stack_reuse.c — race-free under racetrap only if watches on a thread's
// stack are retired when the thread exits. T2 reads a local of T1 (sampled: watches
// on T1's stack), says it is done with an atomic exchange (an ordering racetrap
// does not see), T1 exits and is joined, and T3 gets T1's stack from glibc's cache
// and writes its own local at the very same address. A watch of T2's left on the
// board would make that write a (false) race with T2's old read.
// argv[1]: seconds of CPU time T2 reads (default 1; a tenth of it is used).
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "deadline.h"

static pthread_barrier_t handed_over;
static volatile long* shared;
static long done_reading, t3_done;
static volatile long* t1_local;
static double seconds = 1.0;

static void nap(void) {
  struct timespec ts = {0, 200000};
  nanosleep(&ts, NULL);
}

// T1 and T3 run this: the same deep frame on the same (reused) stack, so `area`
// has the same address in both. It is deep (32 KiB below the thread function) so
// that nothing T1 runs after it returns (its exit path) writes there again.
static __attribute__((noinline)) void deep(int is_t3) {
  volatile long area[4096];
  volatile long* local = &area[0];  // the lowest, deepest element
  *local = 1;
  if (!is_t3) {  // T1: hand it to T2, wait until T2 is done with it
    t1_local = local;
    shared = local;
    pthread_barrier_wait(&handed_over);
    while (__atomic_fetch_add(&done_reading, 0, __ATOMIC_ACQUIRE) == 0) nap();
    return;
  }
  if (local != t1_local) {  // T3: glibc must have reused the stack, or this tests nothing
    fprintf(stderr, "free_stack_reuse: T3's local %p is not at T1's %p (stack not reused)\n", (void*)local,
            (void*)t1_local);
    exit(3);
  }
  struct deadline end = deadline_after(seconds / 10);
  while (before(&end)) *local = *local + 1;  // writes where T2 read
}

static void* owner(void* arg) {
  deep(arg != NULL);
  return NULL;
}

static void* reader(void* arg) {
  (void)arg;
  pthread_barrier_wait(&handed_over);
  long sum = 0;
  struct deadline end = deadline_after(seconds / 10);
  while (before(&end)) sum += *shared;
  __atomic_exchange_n(&done_reading, 1, __ATOMIC_RELEASE);
  // Stay alive (and unjoined) while T3 runs: no join orders this read before it.
  while (__atomic_fetch_add(&t3_done, 0, __ATOMIC_ACQUIRE) == 0) nap();
  return (void*)sum;
}

int main(int argc, char** argv) {
  if (argc > 1) seconds = atof(argv[1]);
  pthread_barrier_init(&handed_over, NULL, 2);
  pthread_t t1, t2, t3;
  pthread_create(&t1, NULL, owner, NULL);
  pthread_create(&t2, NULL, reader, NULL);
  pthread_join(t1, NULL);
  static int second_owner = 1;  // any non-NULL argument: T3 writes instead of reading
  pthread_create(&t3, NULL, owner, &second_owner);
  pthread_join(t3, NULL);
  __atomic_exchange_n(&t3_done, 1, __ATOMIC_RELEASE);
  pthread_join(t2, NULL);
  printf("ok\n");
  return 0;
}
