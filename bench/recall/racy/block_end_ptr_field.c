// block_end_ptr_field.c — the racy store goes through a pointer loaded at the top
// of the block (register-based addressing): each thread counts into its private
// counter, loads the shared session pointer, mixes, and writes the session's
// `last_seen` field at the block's end. Both threads write it unsynchronized.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "deadline.h"

struct session {
  long id;
  long bytes;
  volatile long last_seen;
};

static struct { long iterations; char pad[56]; } counters[2] __attribute__((aligned(64)));
static struct session* volatile current;

struct arg { double seconds; int id; };

static void* worker(void* p) {
  const struct arg* a = p;
  struct deadline end = deadline_after(a->seconds);
  uint64_t h = 3 + (uint64_t)a->id;
  while (before(&end)) {
    for (int i = 0; i < 256; i++) {
      counters[a->id].iterations++;
      struct session* s = current;
      h ^= h << 13;
      h ^= h >> 7;
      h ^= h << 17;
      h *= 0x94d049bb133111ebull;
      s->last_seen = (long)h;  // RACE
      __asm__ volatile("" ::: "memory");
    }
  }
  return NULL;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  current = calloc(1, sizeof(struct session));
  struct arg args[2] = {{seconds, 0}, {seconds, 1}};
  pthread_t t[2];
  for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, worker, &args[i]);
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  printf("last %ld\n", current->last_seen);
  free(current);
  return 0;
}
