// racy_rw_flag.c — read-write race: one thread keeps storing a status flag, the
// other keeps polling it; nothing orders the two.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "deadline.h"

static volatile int status_flag;

static void* flag_writer(void* arg) {
  struct deadline end = deadline_after(*(const double*)arg);
  int round = 0;
  while (before(&end)) {
    for (int i = 0; i < 1000; i++) {
      status_flag = (round + i) & 1;  // RACE
    }
    round++;
  }
  return NULL;
}

static void* flag_reader(void* arg) {
  struct deadline end = deadline_after(*(const double*)arg);
  long seen = 0;
  while (before(&end)) {
    for (int i = 0; i < 1000; i++) {
      if (status_flag) seen++;  // RACE
    }
  }
  return (void*)seen;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  pthread_t w, r;
  void* seen;
  pthread_create(&w, NULL, flag_writer, &seconds);
  pthread_create(&r, NULL, flag_reader, &seconds);
  pthread_join(w, NULL);
  pthread_join(r, &seen);
  printf("reader saw the flag set %ld times\n", (long)seen);
  return 0;
}
