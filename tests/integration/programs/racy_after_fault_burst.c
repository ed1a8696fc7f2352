// racy_after_fault_burst.c — a write-write race after phases of page faults. Each
// thread first touches fresh memory page by page, mapped with mmap, then allocated
// with malloc (4 MiB: above the mmap threshold this program fixes, so each block is
// a fresh mapping), an eighth of its time each, with a phase of plain work between
// them that ends the first pause: hundreds of faults a sampling period, for which
// racetrap switches a thread's debug registers off, from a tick in the first phase
// and at once at the allocation in the second (fault_burst.h). Then both increment
// one counter without synchronization: the race must still be found, the
// registers come back once the faults stop.
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "deadline.h"

static volatile long counter;
static volatile uint64_t shared_table[64];  // read by both threads while they fault

static void fault_in_fresh_pages(double seconds, int with_malloc) {
  struct deadline end = deadline_after(seconds);
  const size_t bytes = 4u << 20;
  uint64_t sum = 0;
  while (before(&end)) {
    char* p = with_malloc ? malloc(bytes) : mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == NULL || p == MAP_FAILED) abort();
    for (size_t off = 0; off < bytes; off += 4096) {
      p[off] = (char)(off >> 12);
      sum += shared_table[(off >> 12) & 63];
    }
    if (with_malloc) free(p);
    else munmap(p, bytes);
  }
  if (sum == 42) puts("");
}

static void work_without_faults(double seconds) {
  struct deadline end = deadline_after(seconds);
  uint64_t sum = 0;
  while (before(&end)) {
    for (int i = 0; i < 1000; i++) sum += shared_table[i & 63] * i;
  }
  if (sum == 42) puts("");
}

static void* fault_then_increment(void* arg) {
  const double seconds = *(const double*)arg;
  fault_in_fresh_pages(seconds / 8, 0);
  work_without_faults(seconds / 16);
  fault_in_fresh_pages(seconds / 8, 1);
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
  mallopt(M_MMAP_THRESHOLD, 1 << 20);  // a fixed threshold: every 4 MiB block is mapped afresh
  mallopt(M_PERTURB, 0);  // no filling by malloc itself (meson sets MALLOC_PERTURB_): the loop faults the pages in
  pthread_t a, b;
  pthread_create(&a, NULL, fault_then_increment, &seconds);
  pthread_create(&b, NULL, fault_then_increment, &seconds);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("counter = %ld\n", counter);
  return 0;
}
