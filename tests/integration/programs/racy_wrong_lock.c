// racy_wrong_lock.c — each thread dutifully takes a mutex around the counter, but
// not the same one, so the increments are not ordered.
//
// -DPRIVATE_ACCESS_FIRST: the first access after the lock call is the thread's
// own counter, so the racy access is only ever sampled inside the critical
// section proper. (A tick inside the lock call samples the access that follows
// the call; the interposer records the lock it took before it allows that, but
// the held-locks check (run_case.py --expect-locks) should not depend on the
// interposer's internal order, so it runs this variant.)
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "deadline.h"

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static long shared_total;

struct worker_args {
  pthread_mutex_t* lock;
  double seconds;
  volatile long calls;  // this thread's own (PRIVATE_ACCESS_FIRST)
};

static void* add_under_lock(void* arg) {
  struct worker_args* w = arg;
  struct deadline end = deadline_after(w->seconds);
  while (before(&end)) {
    for (int i = 0; i < 100; i++) {
      pthread_mutex_lock(w->lock);
#ifdef PRIVATE_ACCESS_FIRST
      // A branch after the private access: under QEMU TCG (tests/guest) a tick is
      // taken only at the start of a translated block, so the racy access needs a
      // block of its own to be sampled at all.
      if (w->calls++ & 1) __asm__ volatile("" ::: "memory");
#endif
      shared_total += i;  // RACE
      pthread_mutex_unlock(w->lock);
    }
  }
  return NULL;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  struct worker_args wa = {&lock_a, seconds, 0}, wb = {&lock_b, seconds, 0};
  pthread_t a, b;
  pthread_create(&a, NULL, add_under_lock, &wa);
  pthread_create(&b, NULL, add_under_lock, &wb);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("total = %ld\n", shared_total);
  return 0;
}
