// free_malloc_queue.c — race-free: producers malloc blocks of many sizes, fill
// them and pass them through a mutex-protected queue to consumers, which check and
// free them (so blocks are freed by a thread other than the one that allocated
// them) and also malloc/free scratch memory of their own. The allocator's internal
// locks are invisible to a pthread-level detector; none of this is a race.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deadline.h"

#define PRODUCERS 2
#define CONSUMERS 2
#define CAPACITY 64

struct block {
  struct block* next;
  size_t words;
  uint64_t stamp;
  uint64_t data[];
};

static struct {
  pthread_mutex_t lock;
  pthread_cond_t not_empty;
  pthread_cond_t not_full;
  struct block *head, *tail;
  int count;
  int producers_left;
} queue = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
           NULL, NULL, 0, PRODUCERS};

static void push(struct block* b) {
  pthread_mutex_lock(&queue.lock);
  while (queue.count == CAPACITY) pthread_cond_wait(&queue.not_full, &queue.lock);
  b->next = NULL;
  if (queue.tail) queue.tail->next = b; else queue.head = b;
  queue.tail = b;
  queue.count++;
  pthread_cond_signal(&queue.not_empty);
  pthread_mutex_unlock(&queue.lock);
}

static struct block* pop(void) {
  pthread_mutex_lock(&queue.lock);
  while (queue.count == 0 && queue.producers_left > 0)
    pthread_cond_wait(&queue.not_empty, &queue.lock);
  struct block* b = queue.head;
  if (b) {
    queue.head = b->next;
    if (!queue.head) queue.tail = NULL;
    queue.count--;
    pthread_cond_signal(&queue.not_full);
  }
  pthread_mutex_unlock(&queue.lock);
  return b;
}

static void* producer(void* arg) {
  struct deadline end = deadline_after(*(const double*)arg);
  uint64_t stamp = (uint64_t)(uintptr_t)&stamp;
  long made = 0;
  while (before(&end)) {
    for (int n = 0; n < 32; n++, made++) {
      stamp = stamp * 6364136223846793005ull + 1442695040888963407ull;
      size_t words = 1 + (stamp >> 40) % 700;  // 16 bytes .. ~5.6 KiB
      struct block* b = malloc(sizeof *b + words * sizeof b->data[0]);
      b->words = words;
      b->stamp = stamp;
      for (size_t i = 0; i < words; i++) b->data[i] = stamp + i;
      push(b);
    }
  }
  pthread_mutex_lock(&queue.lock);
  queue.producers_left--;
  pthread_cond_broadcast(&queue.not_empty);
  pthread_mutex_unlock(&queue.lock);
  return (void*)made;
}

static void* consumer(void* arg) {
  (void)arg;
  long consumed = 0, bad = 0;
  for (struct block* b; (b = pop()) != NULL;) {
    size_t words = b->words;
    char* scratch = malloc(64 + words);
    memset(scratch, 0x5a, 64 + words);
    for (size_t i = 0; i < words; i++)
      if (b->data[i] != b->stamp + i) bad++;
    b->stamp = 0;
    free(b);
    if (scratch[words % 64] != 0x5a) bad++;
    free(scratch);
    consumed++;
  }
  return (void*)(bad ? -1 : consumed);
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  pthread_t p[PRODUCERS], c[CONSUMERS];
  long produced = 0, consumed = 0;
  for (int i = 0; i < CONSUMERS; i++) pthread_create(&c[i], NULL, consumer, NULL);
  for (int i = 0; i < PRODUCERS; i++) pthread_create(&p[i], NULL, producer, &seconds);
  for (int i = 0; i < PRODUCERS; i++) {
    void* r;
    pthread_join(p[i], &r);
    produced += (long)r;
  }
  for (int i = 0; i < CONSUMERS; i++) {
    void* r;
    pthread_join(c[i], &r);
    if ((long)r < 0) consumed = -1000000000;
    consumed += (long)r;
  }
  printf("produced %ld consumed %ld\n", produced, consumed);
  return produced == consumed ? 0 : 1;
}
