// A latent ABBA deadlock, as programs have them: T1 takes A then B, T2 takes B
// then A, each once, both released together from a barrier. Natively the window
// between a thread's two locks is a few instructions, so the program (almost)
// never hangs; a detector that works for long inside the first lock's hold makes
// it hang. run_abba.py runs it many times, natively and under racetrap.
// With the argument "created" there is no barrier: the threads start as the two
// back-to-back pthread_create calls start them (the shape of the program in which
// racetrap once hung 19 runs in 20, and which never hung natively in 100).
// With the argument "ordered" the first thread takes its first lock once the
// second one watches for it, and the second one starts its locks only 50 us after
// the first one holds its first lock (it watches glibc's lock word, so the time
// counts from the real acquisition, whatever runs around the call):
// natively the first thread then takes its second lock some 50 us before the
// second thread takes its first, so the program hangs only when the first thread
// spends 50 us or more between its two locks: when something (a detector) works
// that long inside the first lock's hold, or the thread is preempted right there.
// With the argument "deadlock" each thread sleeps 50 ms holding its first lock:
// then the program really deadlocks (run_abba.py --real-deadlock kills it and
// checks that the inversion reached the raw stream anyway).
// A second argument names the lock kind (the first one then names the shape,
// `barrier` for the default): `mutex` (the default), `rwlock` (write locks) or
// `spin`; the deadlock then is the same over two locks of that kind.
// Lines where the second lock of an edge is taken end in `// EDGE KIND`.
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t rwlock_a = PTHREAD_RWLOCK_INITIALIZER;
static pthread_rwlock_t rwlock_b = PTHREAD_RWLOCK_INITIALIZER;
static pthread_spinlock_t spin_a, spin_b;
enum { kMutex, kRwlock, kSpin };
static int kind = kMutex;
static pthread_barrier_t start;
static int counter;
static int hold_us;  // how long each thread holds its first lock before the second
static int use_barrier = 1;  // 0: the threads start when created ("created")
static int ordered;          // "ordered": the second thread waits for the first one's first lock
enum { kOrderedGapUs = 50 };

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void spin_us(long long us) {
  const long long start = now_ns();
  while (now_ns() - start < us * 1000LL) {
  }
}

static int second_watching;  // "ordered": the second thread watches lock_a's word
static int first_done;       // "ordered": the first thread released both locks

// "ordered": the second thread's start, kOrderedGapUs after the first thread took
// its first lock (glibc's lock word of lock_a turned non-zero), or at once when the
// first thread is done already.
static void wait_for_first_lock(void) {
  __atomic_store_n(&second_watching, 1, __ATOMIC_RELEASE);
  while (__atomic_load_n(&lock_a.__data.__lock, __ATOMIC_ACQUIRE) == 0) {
    if (__atomic_load_n(&first_done, __ATOMIC_ACQUIRE)) return;
  }
  spin_us(kOrderedGapUs);
}

// The other kinds' two locks, A then B (`a_first`) or B then A.
static void rwlocks_in_order(int a_first) {
  if (a_first) {
    pthread_rwlock_wrlock(&rwlock_a);
    if (hold_us) usleep(hold_us);
    pthread_rwlock_wrlock(&rwlock_b);  // EDGE rwlock
  } else {
    pthread_rwlock_wrlock(&rwlock_b);
    if (hold_us) usleep(hold_us);
    pthread_rwlock_wrlock(&rwlock_a);  // EDGE rwlock
  }
  counter++;
  pthread_rwlock_unlock(&rwlock_a);
  pthread_rwlock_unlock(&rwlock_b);
}

static void spin_locks_in_order(int a_first) {
  if (a_first) {
    pthread_spin_lock(&spin_a);
    if (hold_us) usleep(hold_us);
    pthread_spin_lock(&spin_b);  // EDGE spin
  } else {
    pthread_spin_lock(&spin_b);
    if (hold_us) usleep(hold_us);
    pthread_spin_lock(&spin_a);  // EDGE spin
  }
  counter++;
  pthread_spin_unlock(&spin_a);
  pthread_spin_unlock(&spin_b);
}

static void* a_then_b(void* arg) {
  (void)arg;
  if (use_barrier) pthread_barrier_wait(&start);
  if (ordered) {
    while (!__atomic_load_n(&second_watching, __ATOMIC_ACQUIRE)) {
    }
  }
  if (kind == kRwlock) {
    rwlocks_in_order(1);
    return NULL;
  }
  if (kind == kSpin) {
    spin_locks_in_order(1);
    return NULL;
  }
  pthread_mutex_lock(&lock_a);
  if (hold_us) usleep(hold_us);
  pthread_mutex_lock(&lock_b);  // EDGE mutex
  counter++;
  pthread_mutex_unlock(&lock_b);
  pthread_mutex_unlock(&lock_a);
  __atomic_store_n(&first_done, 1, __ATOMIC_RELEASE);
  return NULL;
}

static void* b_then_a(void* arg) {
  (void)arg;
  if (use_barrier) pthread_barrier_wait(&start);
  if (ordered) wait_for_first_lock();
  if (kind == kRwlock) {
    rwlocks_in_order(0);
    return NULL;
  }
  if (kind == kSpin) {
    spin_locks_in_order(0);
    return NULL;
  }
  pthread_mutex_lock(&lock_b);
  if (hold_us) usleep(hold_us);
  pthread_mutex_lock(&lock_a);  // EDGE mutex
  counter++;
  pthread_mutex_unlock(&lock_a);
  pthread_mutex_unlock(&lock_b);
  return NULL;
}

int main(int argc, char** argv) {
  pthread_t t1, t2;
  if (argc > 1 && strcmp(argv[1], "deadlock") == 0) hold_us = 50000;
  if (argc > 1 && strcmp(argv[1], "created") == 0) use_barrier = 0;
  if (argc > 1 && strcmp(argv[1], "ordered") == 0) use_barrier = 0, ordered = 1;
  if (argc > 2 && strcmp(argv[2], "rwlock") == 0) kind = kRwlock;
  if (argc > 2 && strcmp(argv[2], "spin") == 0) kind = kSpin;
  if (ordered && kind != kMutex) {
    fprintf(stderr, "abba: the ordered shape watches a mutex's lock word: mutexes only\n");
    return 2;
  }
  pthread_spin_init(&spin_a, PTHREAD_PROCESS_PRIVATE);
  pthread_spin_init(&spin_b, PTHREAD_PROCESS_PRIVATE);
  pthread_barrier_init(&start, NULL, 2);
  pthread_create(&t1, NULL, a_then_b, NULL);
  pthread_create(&t2, NULL, b_then_a, NULL);
  pthread_join(t1, NULL);
  pthread_join(t2, NULL);
  pthread_barrier_destroy(&start);
  printf("counter=%d\n", counter);
  return counter == 2 ? 0 : 1;
}
