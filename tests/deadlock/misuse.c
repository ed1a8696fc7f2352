// pthread misuse programs for the deadlock suite (tests/deadlock/meson.build),
// one misuse kind per mode (argv[1]); every mode terminates. The misusing call
// is on the line ending in `// MISUSE`.
//   unlock-unlocked   unlock of a mutex nobody holds
//   unlock-non-owner  main unlocks a mutex a thread locked (and still holds)
//   unlock-after-failed-trylock  the same after main's trylock of it failed
//                     (EBUSY), with main holding nothing and past its first lock:
//                     racetrap's lock fast path notes the lock as held before the
//                     real call and must take that back when the call fails
//   destroy-locked    destroy of a locked mutex (libc refuses: EBUSY)
//   cond-wait-unheld  pthread_cond_timedwait with a mutex the thread does not hold
//   self-deadlock     relock of a held normal mutex: pthread_mutex_timedlock, so
//                     the call gives up after 50 ms instead of hanging
//   correct           all of the above done right (no report)
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static sem_t locked, release;

static struct timespec in_ms(int ms) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_nsec += ms * 1000000L;
  ts.tv_sec += ts.tv_nsec / 1000000000L;
  ts.tv_nsec %= 1000000000L;
  return ts;
}

static int locker_unlocks;  // correct mode: the locker unlocks m itself

static void* locker(void* arg) {
  (void)arg;
  pthread_mutex_lock(&m);
  sem_post(&locked);
  sem_wait(&release);
  if (locker_unlocks) pthread_mutex_unlock(&m);
  return NULL;  // otherwise main unlocked m for us (the bug under test)
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "correct";
  sem_init(&locked, 0, 0);
  sem_init(&release, 0, 0);
  if (strcmp(mode, "unlock-unlocked") == 0) {
    pthread_mutex_unlock(&m);  // MISUSE
  } else if (strcmp(mode, "unlock-non-owner") == 0) {
    pthread_t t;
    pthread_create(&t, NULL, locker, NULL);
    sem_wait(&locked);
    pthread_mutex_unlock(&m);  // MISUSE
    sem_post(&release);
    pthread_join(t, NULL);
  } else if (strcmp(mode, "unlock-after-failed-trylock") == 0) {
    pthread_mutex_t first = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&first);  // main's first lock (racetrap's general path)
    pthread_mutex_unlock(&first);
    pthread_t t;
    pthread_create(&t, NULL, locker, NULL);
    sem_wait(&locked);
    int rc = pthread_mutex_trylock(&m);
    printf("trylock of a held mutex: %s\n", strerror(rc));
    pthread_mutex_unlock(&m);  // MISUSE
    sem_post(&release);
    pthread_join(t, NULL);
  } else if (strcmp(mode, "destroy-locked") == 0) {
    pthread_mutex_t d;
    pthread_mutex_init(&d, NULL);
    pthread_mutex_lock(&d);
    int rc = pthread_mutex_destroy(&d);  // MISUSE
    printf("destroy: %s\n", rc == 0 ? "ok" : strerror(rc));
    pthread_mutex_unlock(&d);
    pthread_mutex_destroy(&d);
  } else if (strcmp(mode, "cond-wait-unheld") == 0) {
    struct timespec ts = in_ms(20);
    int rc = pthread_cond_timedwait(&c, &m, &ts);  // MISUSE
    printf("wait: %s\n", rc == 0 ? "ok" : strerror(rc));
    pthread_mutex_unlock(&m);  // libc relocked it on the way out
  } else if (strcmp(mode, "self-deadlock") == 0) {
    pthread_mutex_lock(&m);
    struct timespec ts = in_ms(50);
    int rc = pthread_mutex_timedlock(&m, &ts);  // MISUSE
    printf("relock: %s\n", rc == 0 ? "ok" : strerror(rc));
    pthread_mutex_unlock(&m);
  } else if (strcmp(mode, "correct") == 0) {
    pthread_mutex_lock(&m);
    pthread_mutex_unlock(&m);
    pthread_t t;
    locker_unlocks = 1;
    pthread_create(&t, NULL, locker, NULL);
    sem_wait(&locked);
    sem_post(&release);
    pthread_join(t, NULL);
    pthread_mutex_t d;
    pthread_mutex_init(&d, NULL);
    pthread_mutex_lock(&d);
    pthread_mutex_unlock(&d);
    pthread_mutex_destroy(&d);
    pthread_mutex_t r;
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&r, &attr);
    pthread_mutex_lock(&r);
    pthread_mutex_lock(&r);
    pthread_mutex_unlock(&r);
    pthread_mutex_unlock(&r);
    pthread_mutex_destroy(&r);
    pthread_mutex_t e;
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&e, &attr);
    pthread_mutex_lock(&e);
    printf("errorcheck relock: %s\n", strerror(pthread_mutex_lock(&e)));
    pthread_mutex_unlock(&e);
    pthread_mutex_destroy(&e);
    pthread_mutex_t n;
    pthread_mutex_init(&n, NULL);
    pthread_mutex_lock(&n);
    struct timespec ts = in_ms(20);
    pthread_cond_timedwait(&c, &n, &ts);
    printf("trylock of held: %s\n", strerror(pthread_mutex_trylock(&n)));
    pthread_mutex_unlock(&n);
    pthread_mutex_destroy(&n);
  } else {
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
  }
  return 0;
}
