// free_fresh_copies.c — race-free: two threads, each filling a pattern buffer of
// its own, then copying it with memcpy, memmove and memset into memory it has just
// mapped (pages never touched yet, 64 KiB to 1 MiB, unaligned ends) and checking
// every byte, then unmapping it. Their samples land on their own buffers, which the
// other thread never touches, so the other thread keeps a debug register armed on
// them; its large copies into fresh pages meanwhile have those pages faulted in
// with the registers off first (string_ops_faulted_in > 0) and must give the same
// bytes. A copy into a read-only mapping is not made (it would crash natively too);
// one that ends in a mapping's last byte is. Exits 1 on a wrong byte.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "deadline.h"
#include "two_threads.h"

#define MAX_BYTES (1024 * 1024)

struct buffers {
  unsigned char pattern[MAX_BYTES];
  long bad;
};

static struct buffers per_thread[2];

static void check(struct buffers* b, int ok) {
  if (!ok) b->bad++;
}

static unsigned char* fresh_mapping(size_t bytes) {
  void* p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    perror("mmap");
    exit(2);
  }
  return p;
}

static void* copy_into_fresh_pages(void* arg) {
  const struct thread_arg* a = arg;
  struct buffers* b = &per_thread[a->index];
  struct deadline end = deadline_after(a->seconds);
  unsigned round = 0;
  while (before(&end)) {
    ++round;
    const size_t n = 64 * 1024 + (round * 2654435761u) % (MAX_BYTES - 64 * 1024 - 64);
    const size_t offset = round % 61;
    for (size_t i = 0; i < n; ++i) b->pattern[i] = (unsigned char)(i * 7 + round);
    const size_t mapped = (n + offset + 4095) & ~(size_t)4095;

    unsigned char* to = fresh_mapping(mapped);
    memcpy(to + offset, b->pattern, n);
    for (size_t i = 0; i < n; ++i) check(b, to[offset + i] == b->pattern[i]);
    check(b, offset == 0 || to[offset - 1] == 0);
    munmap(to, mapped);

    // Ending exactly at the mapping's end.
    to = fresh_mapping(mapped);
    memmove(to + mapped - n, b->pattern, n);
    for (size_t i = 0; i < n; ++i) check(b, to[mapped - n + i] == b->pattern[i]);
    munmap(to, mapped);

    to = fresh_mapping(mapped);
    memset(to + offset, (int)(round & 0xff) | 1, n);
    for (size_t i = 0; i < n; ++i) check(b, to[offset + i] == ((round & 0xff) | 1));
    check(b, offset + n == mapped || to[offset + n] == 0);
    munmap(to, mapped);
  }
  return NULL;
}

int main(int argc, char** argv) {
  run_in_two_threads(copy_into_fresh_pages, argc > 1 ? atof(argv[1]) : 1.0);
  long bad = per_thread[0].bad + per_thread[1].bad;
  printf("wrong bytes: %ld\n", bad);
  return bad == 0 ? 0 : 1;
}
