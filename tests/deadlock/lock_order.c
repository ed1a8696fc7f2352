// Lock-order programs for the deadlock suite (tests/deadlock/meson.build).
// The threads run one after the other, so nothing ever deadlocks; the lock
// order graph still sees every inversion. Modes (argv[1]):
//   inversion   T1 takes A then B, T2 (started after T1 ended) takes B then A
//   three       T1: A->B, T2: B->C, T3: C->A (a 3-lock cycle)
//   rwlock      T1: read A -> write B, T2: write B -> read A (rwlocks)
//   consistent  T1 and T2 both take A then B (no report)
//   trylock     T1: A->B, T2: B then trylock A (a trylock cannot deadlock: no report)
//   destroyed   T1: A->B, then A is destroyed and re-initialised, T2: B->A (no report)
//   inversion-warm  T1: trylock A then B, T2: B then A, each after a lock and
//               unlock of an unrelated mutex: the first lock of each edge takes
//               racetrap's fast path (nothing held), lock and trylock alike
// Lines where the second lock of an edge is taken end in `// EDGE`.
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_c = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_warm = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t rw_a = PTHREAD_RWLOCK_INITIALIZER;
static pthread_rwlock_t rw_b = PTHREAD_RWLOCK_INITIALIZER;
static int counter;

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

static void* b_then_c(void* arg) {
  (void)arg;
  pthread_mutex_lock(&lock_b);
  pthread_mutex_lock(&lock_c);  // EDGE
  counter++;
  pthread_mutex_unlock(&lock_c);
  pthread_mutex_unlock(&lock_b);
  return NULL;
}

static void* c_then_a(void* arg) {
  (void)arg;
  pthread_mutex_lock(&lock_c);
  pthread_mutex_lock(&lock_a);  // EDGE
  counter++;
  pthread_mutex_unlock(&lock_a);
  pthread_mutex_unlock(&lock_c);
  return NULL;
}

static void* b_then_try_a(void* arg) {
  (void)arg;
  pthread_mutex_lock(&lock_b);
  if (pthread_mutex_trylock(&lock_a) == 0) {
    counter++;
    pthread_mutex_unlock(&lock_a);
  }
  pthread_mutex_unlock(&lock_b);
  return NULL;
}

// A thread's first lock takes racetrap's general path (it sets up the thread's
// lock-order storage); a later one with nothing held takes the fast path.
static void warm_up(void) {
  pthread_mutex_lock(&lock_warm);
  counter++;
  pthread_mutex_unlock(&lock_warm);
}

static void* warm_try_a_then_b(void* arg) {
  (void)arg;
  warm_up();
  if (pthread_mutex_trylock(&lock_a) != 0) return NULL;
  pthread_mutex_lock(&lock_b);  // EDGE
  counter++;
  pthread_mutex_unlock(&lock_b);
  pthread_mutex_unlock(&lock_a);
  return NULL;
}

static void* warm_b_then_a(void* arg) {
  warm_up();
  return b_then_a(arg);
}

static void* rd_a_then_wr_b(void* arg) {
  (void)arg;
  pthread_rwlock_rdlock(&rw_a);
  pthread_rwlock_wrlock(&rw_b);  // EDGE
  counter++;
  pthread_rwlock_unlock(&rw_b);
  pthread_rwlock_unlock(&rw_a);
  return NULL;
}

static void* wr_b_then_rd_a(void* arg) {
  (void)arg;
  pthread_rwlock_wrlock(&rw_b);
  pthread_rwlock_rdlock(&rw_a);  // EDGE
  counter++;
  pthread_rwlock_unlock(&rw_a);
  pthread_rwlock_unlock(&rw_b);
  return NULL;
}

// Runs each function in its own thread, one after the other.
static void in_turn(void* (*fns[])(void*), int n) {
  for (int i = 0; i < n; ++i) {
    pthread_t t;
    pthread_create(&t, NULL, fns[i], NULL);
    pthread_join(t, NULL);
  }
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "inversion";
  if (strcmp(mode, "inversion") == 0) {
    void* (*fns[])(void*) = {a_then_b, b_then_a};
    in_turn(fns, 2);
  } else if (strcmp(mode, "three") == 0) {
    void* (*fns[])(void*) = {a_then_b, b_then_c, c_then_a};
    in_turn(fns, 3);
  } else if (strcmp(mode, "rwlock") == 0) {
    void* (*fns[])(void*) = {rd_a_then_wr_b, wr_b_then_rd_a};
    in_turn(fns, 2);
  } else if (strcmp(mode, "consistent") == 0) {
    void* (*fns[])(void*) = {a_then_b, a_then_b, a_then_b};
    in_turn(fns, 3);
  } else if (strcmp(mode, "trylock") == 0) {
    void* (*fns[])(void*) = {a_then_b, b_then_try_a};
    in_turn(fns, 2);
  } else if (strcmp(mode, "inversion-warm") == 0) {
    void* (*fns[])(void*) = {warm_try_a_then_b, warm_b_then_a};
    in_turn(fns, 2);
  } else if (strcmp(mode, "destroyed") == 0) {
    void* (*first[])(void*) = {a_then_b};
    in_turn(first, 1);
    pthread_mutex_destroy(&lock_a);
    pthread_mutex_init(&lock_a, NULL);
    void* (*second[])(void*) = {b_then_a};
    in_turn(second, 1);
  } else {
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
  }
  printf("counter=%d\n", counter);
  return 0;
}
