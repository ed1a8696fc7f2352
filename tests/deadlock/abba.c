// A latent ABBA deadlock, as programs have them: T1 takes A then B, T2 takes B
// then A, each once, both released together from a barrier. Natively the window
// between a thread's two locks is a few instructions, so the program (almost)
// never hangs; a detector that works for long inside the first lock's hold makes
// it hang. run_abba.py runs it many times, natively and under racetrap.
// With the argument "created" there is no barrier: the threads start as the two
// back-to-back pthread_create calls start them (the shape of the program in which
// racetrap once hung 19 runs in 20, and which never hung natively in 100).
// With the argument "deadlock" each thread sleeps 50 ms holding its first lock:
// then the program really deadlocks (run_abba.py --real-deadlock kills it and
// checks that the inversion reached the raw stream anyway).
// Lines where the second lock of an edge is taken end in `// EDGE`.
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t start;
static int counter;
static int hold_us;  // how long each thread holds its first lock before the second
static int use_barrier = 1;  // 0: the threads start when created ("created")

static void* a_then_b(void* arg) {
  (void)arg;
  if (use_barrier) pthread_barrier_wait(&start);
  pthread_mutex_lock(&lock_a);
  if (hold_us) usleep(hold_us);
  pthread_mutex_lock(&lock_b);  // EDGE
  counter++;
  pthread_mutex_unlock(&lock_b);
  pthread_mutex_unlock(&lock_a);
  return NULL;
}

static void* b_then_a(void* arg) {
  (void)arg;
  if (use_barrier) pthread_barrier_wait(&start);
  pthread_mutex_lock(&lock_b);
  if (hold_us) usleep(hold_us);
  pthread_mutex_lock(&lock_a);  // EDGE
  counter++;
  pthread_mutex_unlock(&lock_a);
  pthread_mutex_unlock(&lock_b);
  return NULL;
}

int main(int argc, char** argv) {
  pthread_t t1, t2;
  if (argc > 1 && strcmp(argv[1], "deadlock") == 0) hold_us = 50000;
  if (argc > 1 && strcmp(argv[1], "created") == 0) use_barrier = 0;
  pthread_barrier_init(&start, NULL, 2);
  pthread_create(&t1, NULL, a_then_b, NULL);
  pthread_create(&t2, NULL, b_then_a, NULL);
  pthread_join(t1, NULL);
  pthread_join(t2, NULL);
  pthread_barrier_destroy(&start);
  printf("counter=%d\n", counter);
  return counter == 2 ? 0 : 1;
}
