// dcl_pointer.c — broken double-checked locking on a cache of lazily built
// objects: a lookup first checks the slot without the lock, and only when it is
// empty takes the lock, checks again and publishes a new object with a plain
// store. A maintenance thread empties slots under the same lock now and then, so
// initialization keeps happening. The unlocked first check races with the
// publishing store made under the lock (and the object's fields with their
// initialization).
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "deadline.h"

#define SLOTS 16

struct entry {
  uint64_t key;
  uint64_t value;
};

static struct entry* volatile cache[SLOTS];
static struct entry pool[SLOTS][64];
static unsigned pool_next[SLOTS];
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static struct entry* lookup(unsigned k) {
  struct entry* e = cache[k];  // RACE
  if (e == NULL) {
    pthread_mutex_lock(&cache_lock);
    e = cache[k];
    if (e == NULL) {
      e = &pool[k][pool_next[k]++ & 63];
      e->key = k;
      e->value = (uint64_t)k * 2654435761u;
      cache[k] = e;  // RACE
    }
    pthread_mutex_unlock(&cache_lock);
  }
  return e;
}

static void* user(void* p) {
  struct deadline end = deadline_after(*(const double*)p);
  uint64_t h = 1, sum = 0;
  while (before(&end)) {
    for (int i = 0; i < 64; i++) {
      h = h * 6364136223846793005ull + 1442695040888963407ull;
      sum += lookup((unsigned)(h >> 60))->value;
    }
  }
  return (void*)(uintptr_t)sum;
}

static void* maintainer(void* p) {
  struct deadline end = deadline_after(*(const double*)p);
  uint64_t h = 3;
  unsigned k = 0;
  while (before(&end)) {
    for (int spin = 0; spin < 2000; spin++) h = h * 0x5851f42d4c957f2dull + 1;
    pthread_mutex_lock(&cache_lock);
    cache[k++ % SLOTS] = NULL;  // RACE
    pthread_mutex_unlock(&cache_lock);
    (void)h;
  }
  return NULL;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  pthread_t u, m;
  pthread_create(&u, NULL, user, &seconds);
  pthread_create(&m, NULL, maintainer, &seconds);
  pthread_join(u, NULL);
  pthread_join(m, NULL);
  printf("done\n");
  return 0;
}
