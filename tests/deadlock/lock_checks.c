// Lock checks beyond the mutex basics (tests/deadlock/meson.build): spin locks
// in the lock-order graph, invalid mutexes, unlocks of unheld mutexes of every
// kind, annotated locks, and the rwlock / condition variable / barrier /
// semaphore / thread-exit misuse. One mode per program (argv[1]); each buggy mode
// has a correct twin "ok-<mode>" that does the same work right. Every mode
// terminates: threads that must be blocked on an object while main misuses it
// are released afterwards, and main waits for them to block by reading glibc's
// (NPTL, x86-64) object fields, so that the misuse always sees them waiting.
// The misusing call is on the line ending in `// MISUSE`; the second lock of
// each lock-order edge on a line ending in `// EDGE`.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

// The dynamic-annotation API (racetrap, TSan and Helgrind implement it): weak, so
// the program runs without any of them.
void AnnotateRWLockAcquired(const char* file, int line, const volatile void* lock, long is_w) __attribute__((weak));
void AnnotateRWLockReleased(const char* file, int line, const volatile void* lock, long is_w) __attribute__((weak));

static pthread_spinlock_t spin_a, spin_b;
static pthread_mutex_t mutex_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mutex_w = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t kinded;  // of the kind under test
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static pthread_barrier_t barrier;
static sem_t sem, locked, release;
static int annotated_lock;
static int counter;

static struct timespec in_ms(int ms) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_nsec += ms * 1000000L;
  ts.tv_sec += ts.tv_nsec / 1000000000L;
  ts.tv_nsec %= 1000000000L;
  return ts;
}

// Waits (at most 10 s) until *word != 0: glibc's count of waiters of an object.
static void wait_nonzero(const volatile unsigned* word) {
  for (int i = 0; i < 100000 && *word == 0; ++i) usleep(100);
  if (*word == 0) {
    fprintf(stderr, "the waiter never blocked\n");
    exit(3);
  }
}
// glibc: a barrier's first field counts the threads that entered it, a
// semaphore's high 32 bits of its first 8 bytes its waiters, a condition
// variable's __wrefs (>> 3) its waiters.
static const volatile unsigned* barrier_entered(pthread_barrier_t* b) { return (const volatile unsigned*)b; }
static const volatile unsigned* sem_waiters(sem_t* s) { return (const volatile unsigned*)s + 1; }
static const volatile unsigned* cond_refs(pthread_cond_t* c) { return &c->__data.__wrefs; }

static pthread_t start(void* (*fn)(void*)) {
  pthread_t t;
  pthread_create(&t, NULL, fn, NULL);
  return t;
}
static void run(void* (*fn)(void*)) { pthread_join(start(fn), NULL); }

// ---- spin locks (and spin + mutex) in the lock-order graph ----
static void* spin_a_then_b(void* arg) {
  (void)arg;
  pthread_spin_lock(&spin_a);
  pthread_spin_lock(&spin_b);  // EDGE
  counter++;
  pthread_spin_unlock(&spin_b);
  pthread_spin_unlock(&spin_a);
  return NULL;
}
static void* spin_b_then_a(void* arg) {
  (void)arg;
  pthread_spin_lock(&spin_b);
  pthread_spin_lock(&spin_a);  // EDGE
  counter++;
  pthread_spin_unlock(&spin_a);
  pthread_spin_unlock(&spin_b);
  return NULL;
}
static void* spin_then_mutex(void* arg) {
  (void)arg;
  pthread_spin_lock(&spin_a);
  pthread_mutex_lock(&mutex_m);  // EDGE
  counter++;
  pthread_mutex_unlock(&mutex_m);
  pthread_spin_unlock(&spin_a);
  return NULL;
}
static void* mutex_then_spin(void* arg) {
  (void)arg;
  pthread_mutex_lock(&mutex_m);
  pthread_spin_lock(&spin_a);  // EDGE
  counter++;
  pthread_spin_unlock(&spin_a);
  pthread_mutex_unlock(&mutex_m);
  return NULL;
}

// ---- mutex kinds ----
static void init_kind(const char* kind) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  if (strcmp(kind, "errorcheck") == 0) pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
  else if (strcmp(kind, "recursive") == 0) pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  else if (strcmp(kind, "robust") == 0) pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  else if (strcmp(kind, "pi") == 0) pthread_mutexattr_setprotocol(&attr, PTHREAD_PRIO_INHERIT);
  else if (strcmp(kind, "normal") != 0) {
    fprintf(stderr, "unknown mutex kind %s\n", kind);
    exit(2);
  }
  pthread_mutex_init(&kinded, &attr);
  pthread_mutexattr_destroy(&attr);
}
// Holds `kinded` until main says so, then unlocks it if it still owns it.
static void* kinded_locker(void* arg) {
  (void)arg;
  pthread_mutex_lock(&kinded);
  sem_post(&locked);
  sem_wait(&release);
  pthread_mutex_unlock(&kinded);
  return NULL;
}

// ---- rwlock, barrier, semaphore, condition variable waiters ----
static void* rw_reader_leaves_unlock_to_main(void* arg) {
  (void)arg;
  pthread_rwlock_rdlock(&rw);
  sem_post(&locked);
  sem_wait(&release);
  return NULL;  // main unlocked it (the bug under test)
}
static void* rw_reader(void* arg) {
  (void)arg;
  pthread_rwlock_rdlock(&rw);
  sem_post(&locked);
  sem_wait(&release);
  pthread_rwlock_unlock(&rw);
  return NULL;
}
static void* barrier_waiter(void* arg) {
  (void)arg;
  pthread_barrier_wait(&barrier);
  return NULL;
}
// Ends the program once main is blocked in pthread_barrier_destroy (which adds
// to glibc's `out` counter, the barrier's fifth field, before it blocks): glibc
// waits there for the round to complete, and completing it now may leave the
// first waiter blocked for ever, so nothing else can end the program.
static void* exit_when_destroying(void* arg) {
  (void)arg;
  const volatile unsigned* out = (const volatile unsigned*)&barrier + 4;
  wait_nonzero(out);
  printf("barrier-destroy-busy: destroy blocks, exiting\n");
  exit(0);
}
static void* sem_waiter(void* arg) {
  (void)arg;
  sem_wait(&sem);
  return NULL;
}
static void* sem_timed_waiter(void* arg) {
  (void)arg;
  struct timespec ts = in_ms(300);
  sem_timedwait(&sem, &ts);
  return NULL;
}
static void* cond_waiter(void* arg) {
  (void)arg;
  pthread_mutex_lock(&mutex_m);
  struct timespec ts = in_ms(300);
  pthread_cond_timedwait(&cond, &mutex_m, &ts);
  pthread_mutex_unlock(&mutex_m);
  return NULL;
}
static void* cond_waiter_until_signalled(void* arg) {
  (void)arg;
  pthread_mutex_lock(&mutex_m);
  sem_post(&locked);
  pthread_cond_wait(&cond, &mutex_m);
  pthread_mutex_unlock(&mutex_m);
  return NULL;
}

// ---- thread exit ----
static void* exit_holding(void* arg) {
  (void)arg;
  pthread_mutex_lock(&mutex_m);
  pthread_exit(NULL);  // MISUSE
}
static void* return_holding(void* arg) {
  (void)arg;
  pthread_mutex_lock(&mutex_m);  // MISUSE
  return NULL;
}
static void* return_holding_kinded(void* arg) {
  (void)arg;
  pthread_mutex_lock(&kinded);
  return NULL;
}
static void* exit_after_unlock(void* arg) {
  (void)arg;
  pthread_mutex_lock(&mutex_m);
  pthread_mutex_unlock(&mutex_m);
  pthread_exit(NULL);
}

static int is(const char* mode, const char* name) { return strcmp(mode, name) == 0; }

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  const int ok = strncmp(mode, "ok-", 3) == 0;
  const char* m = ok ? mode + 3 : mode;
  pthread_spin_init(&spin_a, PTHREAD_PROCESS_PRIVATE);
  pthread_spin_init(&spin_b, PTHREAD_PROCESS_PRIVATE);
  sem_init(&locked, 0, 0);
  sem_init(&release, 0, 0);
  int rc = 0;

  if (is(m, "spin-abba")) {
    run(spin_a_then_b);
    run(ok ? spin_a_then_b : spin_b_then_a);
  } else if (is(m, "spin-mutex-abba")) {
    run(spin_then_mutex);
    run(ok ? spin_then_mutex : mutex_then_spin);
  } else if (is(m, "invalid-mutex")) {
    pthread_mutex_t* bad = malloc(sizeof *bad);
    if (ok) {
      pthread_mutex_init(bad, NULL);
      pthread_mutex_lock(bad);
      rc = pthread_mutex_unlock(bad);
      pthread_mutex_destroy(bad);
    } else {
      memset(bad, 0xff, sizeof *bad);
      rc = pthread_mutex_unlock(bad);  // MISUSE
    }
    free(bad);
  } else if (strncmp(m, "unlock-unlocked-", 16) == 0) {
    init_kind(m + 16);
    if (ok) pthread_mutex_lock(&kinded);
    rc = pthread_mutex_unlock(&kinded);  // MISUSE
    pthread_mutex_destroy(&kinded);
  } else if (strncmp(m, "unlock-non-owner-", 17) == 0) {
    init_kind(m + 17);
    pthread_t t = start(kinded_locker);
    sem_wait(&locked);
    if (!ok) rc = pthread_mutex_unlock(&kinded);  // MISUSE
    sem_post(&release);
    pthread_join(t, NULL);
    pthread_mutex_destroy(&kinded);
  } else if (is(m, "annotated-unlock-unheld")) {
    if (ok && AnnotateRWLockAcquired) AnnotateRWLockAcquired(__FILE__, __LINE__, &annotated_lock, 1);
    annotated_lock = 1;
    if (AnnotateRWLockReleased) AnnotateRWLockReleased(__FILE__, __LINE__, &annotated_lock, 1);  // MISUSE
  } else if (is(m, "rwlock-unlock-unheld")) {
    pthread_t t = start(ok ? rw_reader : rw_reader_leaves_unlock_to_main);
    sem_wait(&locked);
    if (!ok) rc = pthread_rwlock_unlock(&rw);  // MISUSE
    sem_post(&release);
    pthread_join(t, NULL);
  } else if (is(m, "rwlock-destroy-held")) {
    pthread_rwlock_t* l = malloc(sizeof *l);
    pthread_rwlock_init(l, NULL);
    pthread_rwlock_wrlock(l);
    if (ok) pthread_rwlock_unlock(l);
    rc = pthread_rwlock_destroy(l);  // MISUSE
    free(l);
  } else if (is(m, "barrier-destroy-busy")) {
    pthread_barrier_init(&barrier, NULL, 2);
    pthread_t t = start(barrier_waiter);
    if (ok) {
      pthread_barrier_wait(&barrier);
      pthread_join(t, NULL);
      rc = pthread_barrier_destroy(&barrier);
    } else {
      wait_nonzero(barrier_entered(&barrier));
      start(exit_when_destroying);
      rc = pthread_barrier_destroy(&barrier);  // MISUSE
      pthread_join(t, NULL);  // never returns: the other thread exits
    }
  } else if (is(m, "sem-destroy-busy")) {
    sem_init(&sem, 0, 0);
    pthread_t t = start(sem_waiter);
    if (ok) {
      sem_post(&sem);
      pthread_join(t, NULL);
      rc = sem_destroy(&sem);
    } else {
      wait_nonzero(sem_waiters(&sem));
      rc = sem_destroy(&sem);  // MISUSE
      sem_post(&sem);  // glibc's destroy changed nothing: this still wakes the waiter
      pthread_join(t, NULL);
    }
  } else if (is(m, "cond-destroy-busy")) {
    pthread_t t = start(cond_waiter);
    if (ok) {
      pthread_join(t, NULL);
      rc = pthread_cond_destroy(&cond);
    } else {
      wait_nonzero(cond_refs(&cond));
      rc = pthread_cond_destroy(&cond);  // MISUSE
      pthread_join(t, NULL);
    }
  } else if (is(m, "cond-two-mutexes")) {
    pthread_t t = start(cond_waiter_until_signalled);
    sem_wait(&locked);
    wait_nonzero(cond_refs(&cond));
    pthread_mutex_t* with = ok ? &mutex_m : &mutex_w;
    pthread_mutex_lock(with);
    struct timespec ts = in_ms(20);
    rc = pthread_cond_timedwait(&cond, with, &ts);  // MISUSE
    pthread_mutex_unlock(with);
    pthread_mutex_lock(&mutex_m);
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&mutex_m);
    pthread_join(t, NULL);
  } else if (is(m, "thread-exit-holding")) {
    run(ok ? exit_after_unlock : exit_holding);
  } else if (is(m, "thread-return-holding")) {
    if (ok) run(exit_after_unlock);
    else run(return_holding);
  } else if (is(m, "robust-owner-dies")) {
    // Not a misuse (no ok- twin): a robust mutex's owner may die holding it; the
    // next lock returns EOWNERDEAD and the program recovers.
    init_kind("robust");
    run(return_holding_kinded);
    rc = pthread_mutex_lock(&kinded);
    if (rc == EOWNERDEAD) pthread_mutex_consistent(&kinded);
    pthread_mutex_unlock(&kinded);
    pthread_mutex_destroy(&kinded);
    rc = rc == EOWNERDEAD ? 0 : -1;
  } else if (is(m, "barrier-init-zero")) {
    rc = pthread_barrier_init(&barrier, NULL, ok ? 1 : 0);  // MISUSE
    if (rc == 0) {
      pthread_barrier_wait(&barrier);
      pthread_barrier_destroy(&barrier);
    }
  } else if (is(m, "barrier-reinit-in-use")) {
    pthread_barrier_init(&barrier, NULL, 2);
    pthread_t t = start(barrier_waiter);
    if (!ok) wait_nonzero(barrier_entered(&barrier));
    if (ok) {
      pthread_barrier_wait(&barrier);  // the round completes: nobody waits any more
      pthread_join(t, NULL);
    }
    rc = pthread_barrier_init(&barrier, NULL, 2);  // MISUSE
    // Two more arrivals complete a round and release the first waiter too.
    pthread_t second = start(barrier_waiter);
    pthread_barrier_wait(&barrier);
    pthread_join(second, NULL);
    if (!ok) pthread_join(t, NULL);
  } else if (is(m, "sem-init-in-use")) {
    sem_init(&sem, 0, 0);
    pthread_t t = start(sem_timed_waiter);
    if (!ok) {
      wait_nonzero(sem_waiters(&sem));
    } else {
      sem_post(&sem);
      pthread_join(t, NULL);
    }
    rc = sem_init(&sem, 0, 0);  // MISUSE
    if (!ok) pthread_join(t, NULL);  // its timed wait ends (the re-initialized semaphore forgot it)
  } else {
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
  }
  printf("%s: %s (counter %d)\n", mode, rc == 0 ? "ok" : rc > 0 ? strerror(rc) : "-1", counter);
  return 0;
}
