// free_string_ops.c — race-free: two threads, each filling, copying and moving
// kilobyte buffers of its own with memcpy, memmove and memset, and checking every
// byte. Their samples land on their own buffers, which the other thread never
// touches, so the other thread keeps a debug register armed on them for the
// watch's lifetime; the copies made meanwhile take racetrap's path for copies
// under an armed register (no fast-string instructions). Exits 1 on a wrong byte.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deadline.h"
#include "two_threads.h"

#define MAX_BYTES (16 * 1024 + 64)

struct buffers {
  unsigned char pattern[MAX_BYTES];
  unsigned char copy[MAX_BYTES + 256];
  long bad;
};

static struct buffers per_thread[2];

static void check(struct buffers* b, int ok) {
  if (!ok) b->bad++;
}

static void* copy_and_check(void* arg) {
  const struct thread_arg* a = arg;
  struct buffers* b = &per_thread[a->index];
  struct deadline end = deadline_after(a->seconds);
  unsigned round = 0;
  while (before(&end)) {
    ++round;
    // 2 KiB to 16 KiB and a few bytes, so both ends of the copies are unaligned.
    const size_t n = 2048 + (round * 2654435761u) % (MAX_BYTES - 2048);
    const size_t shift = 1 + round % 97;
    for (size_t i = 0; i < n; ++i) b->pattern[i] = (unsigned char)(i * 7 + round);
    memcpy(b->copy + (round & 15), b->pattern, n);
    for (size_t i = 0; i < n; ++i) check(b, b->copy[(round & 15) + i] == b->pattern[i]);
    // Overlapping moves, up and down, into the copy.
    memmove(b->copy + shift, b->copy + (round & 15), n);
    for (size_t i = 0; i < n; ++i) check(b, b->copy[shift + i] == b->pattern[i]);
    memmove(b->copy, b->copy + shift, n);
    for (size_t i = 0; i < n; ++i) check(b, b->copy[i] == b->pattern[i]);
    memset(b->copy + 1, (int)round, n);
    for (size_t i = 0; i < n; ++i) check(b, b->copy[1 + i] == (unsigned char)round);
    check(b, b->copy[0] == b->pattern[0]);
  }
  return NULL;
}

int main(int argc, char** argv) {
  run_in_two_threads(copy_and_check, argc > 1 ? atof(argv[1]) : 1.0);
  long bad = per_thread[0].bad + per_thread[1].bad;
  printf("wrong bytes: %ld\n", bad);
  return bad == 0 ? 0 : 1;
}
