// altstack_usage.c — each racing thread installs its own sigaltstack (the program's
// own, which racetrap must respect: SA_ONSTACK handlers run there), races for a
// while, then reports how deep racetrap's SIGTRAP handler went on it.
// Prints "max-depth N" (bytes of the alternate stack ever used) and "ok".
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ALT_SIZE (256 * 1024)
static volatile long shared_counter;
static double seconds = 1.0;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void* worker(void* arg) {
  long* depth = arg;
  unsigned char* alt = malloc(ALT_SIZE);
  memset(alt, 0xAA, ALT_SIZE);
  stack_t ss = {.ss_sp = alt, .ss_size = ALT_SIZE, .ss_flags = 0};
  if (sigaltstack(&ss, NULL) != 0) { perror("sigaltstack"); exit(1); }
  double end = now() + seconds;
  while (now() < end)
    for (int i = 0; i < 1000; ++i) shared_counter++;  // RACE
  stack_t cur;
  sigaltstack(NULL, &cur);
  if (cur.ss_sp != alt) { fprintf(stderr, "altstack changed under the program\n"); exit(1); }
  ss.ss_flags = SS_DISABLE;
  sigaltstack(&ss, NULL);
  long used = 0;
  for (long i = 0; i < ALT_SIZE; ++i)
    if (alt[i] != 0xAA) { used = ALT_SIZE - i; break; }
  *depth = used;
  free(alt);
  return NULL;
}

int main(int argc, char** argv) {
  if (argc > 1) seconds = atof(argv[1]);
  pthread_t t[2];
  long depth[2] = {0, 0};
  for (int i = 0; i < 2; ++i) pthread_create(&t[i], NULL, worker, &depth[i]);
  for (int i = 0; i < 2; ++i) pthread_join(t[i], NULL);
  long max = depth[0] > depth[1] ? depth[0] : depth[1];
  fprintf(stderr, "max-depth %ld\n", max);
  printf("ok\n");
  return 0;
}
