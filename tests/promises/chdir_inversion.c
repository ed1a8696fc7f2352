// chdir_inversion.c — changes directory, then makes a lock-order inversion (two
// threads, one after the other): its report must still land under the directory
// the program started in when RACETRAP_LOG_PATH is relative.
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;

static void* a_then_b(void* arg) {
  (void)arg;
  pthread_mutex_lock(&lock_a);
  pthread_mutex_lock(&lock_b);
  pthread_mutex_unlock(&lock_b);
  pthread_mutex_unlock(&lock_a);
  return NULL;
}

static void* b_then_a(void* arg) {
  (void)arg;
  pthread_mutex_lock(&lock_b);
  pthread_mutex_lock(&lock_a);
  pthread_mutex_unlock(&lock_a);
  pthread_mutex_unlock(&lock_b);
  return NULL;
}

int main(int argc, char** argv) {
  if (argc > 1 && chdir(argv[1]) != 0) {
    perror("chdir");
    return 1;
  }
  pthread_t t;
  pthread_create(&t, NULL, a_then_b, NULL);
  pthread_join(t, NULL);
  pthread_create(&t, NULL, b_then_a, NULL);
  pthread_join(t, NULL);
  printf("pid %d\n", (int)getpid());
  return 0;
}
