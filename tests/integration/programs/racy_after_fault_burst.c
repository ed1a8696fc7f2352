// racy_after_fault_burst.c — a write-write race after a phase of page faults. Each
// thread first maps, touches page by page and unmaps fresh memory for a fifth of
// its time (hundreds of faults a sampling period: racetrap switches a thread's
// debug registers off while it faults that fast, fault_burst.h), then both
// increment one counter without synchronization. The race must still be found:
// the registers come back once the faults stop.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "deadline.h"

static volatile long counter;
static volatile uint64_t shared_table[64];  // read by both threads while they fault

static void fault_in_fresh_pages(double seconds) {
  struct deadline end = deadline_after(seconds);
  const size_t bytes = 4u << 20;
  uint64_t sum = 0;
  while (before(&end)) {
    char* p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) abort();
    for (size_t off = 0; off < bytes; off += 4096) {
      p[off] = (char)(off >> 12);
      sum += shared_table[(off >> 12) & 63];
    }
    munmap(p, bytes);
  }
  if (sum == 42) puts("");
}

static void* fault_then_increment(void* arg) {
  const double seconds = *(const double*)arg;
  fault_in_fresh_pages(seconds / 4);
  struct deadline end = deadline_after(seconds);
  while (before(&end)) {
    for (int i = 0; i < 1000; i++) {
      counter = counter + 1;  // RACE
    }
  }
  return NULL;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  pthread_t a, b;
  pthread_create(&a, NULL, fault_then_increment, &seconds);
  pthread_create(&b, NULL, fault_then_increment, &seconds);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("counter = %ld\n", counter);
  return 0;
}
