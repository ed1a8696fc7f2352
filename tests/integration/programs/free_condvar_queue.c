// free_condvar_queue.c — race-free: a producer and a consumer share a bounded ring
// queue guarded by a mutex and two condition variables. Payload slots are written
// by the producer *outside* the lock before the item is queued and read and
// rewritten by the consumer outside the lock after it is dequeued; the queue
// handoff orders them (there are twice as many payload slots as queue entries).
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "deadline.h"

#define CAPACITY 8
#define SLOTS (2 * CAPACITY)
#define PAYLOAD_WORDS 32

struct payload {
  long sequence;
  long words[PAYLOAD_WORDS];
  long result;
};

static struct payload payloads[SLOTS];

static struct {
  pthread_mutex_t lock;
  pthread_cond_t not_empty;
  pthread_cond_t not_full;
  int items[CAPACITY];
  int head, count;
  int closed;
} queue = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
           {0}, 0, 0, 0};

static void push(int slot) {
  pthread_mutex_lock(&queue.lock);
  while (queue.count == CAPACITY) pthread_cond_wait(&queue.not_full, &queue.lock);
  queue.items[(queue.head + queue.count) % CAPACITY] = slot;
  queue.count++;
  pthread_cond_signal(&queue.not_empty);
  pthread_mutex_unlock(&queue.lock);
}

static int pop(void) {  // -1 when closed and drained
  pthread_mutex_lock(&queue.lock);
  while (queue.count == 0 && !queue.closed) pthread_cond_wait(&queue.not_empty, &queue.lock);
  int slot = -1;
  if (queue.count > 0) {
    slot = queue.items[queue.head];
    queue.head = (queue.head + 1) % CAPACITY;
    queue.count--;
    pthread_cond_signal(&queue.not_full);
  }
  pthread_mutex_unlock(&queue.lock);
  return slot;
}

static void* producer(void* arg) {
  struct deadline end = deadline_after(*(const double*)arg);
  long sequence = 0;
  while (before(&end)) {
    for (int n = 0; n < 64; n++, sequence++) {
      struct payload* p = &payloads[sequence % SLOTS];
      p->sequence = sequence;
      for (int i = 0; i < PAYLOAD_WORDS; i++) p->words[i] = sequence * i;
      push((int)(sequence % SLOTS));
    }
  }
  pthread_mutex_lock(&queue.lock);
  queue.closed = 1;
  pthread_cond_broadcast(&queue.not_empty);
  pthread_mutex_unlock(&queue.lock);
  return (void*)sequence;
}

static void* consumer(void* arg) {
  (void)arg;
  long consumed = 0, bad = 0;
  for (int slot; (slot = pop()) >= 0;) {
    struct payload* p = &payloads[slot];
    long sum = 0;
    for (int i = 0; i < PAYLOAD_WORDS; i++) sum += p->words[i];
    if (sum != p->sequence * (PAYLOAD_WORDS * (PAYLOAD_WORDS - 1) / 2)) bad++;
    p->result = sum;
    consumed++;
  }
  return (void*)(bad ? -1 : consumed);
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  pthread_t p, c;
  void *produced, *consumed;
  pthread_create(&c, NULL, consumer, NULL);
  pthread_create(&p, NULL, producer, &seconds);
  pthread_join(p, &produced);
  pthread_join(c, &consumed);
  printf("produced %ld consumed %ld\n", (long)produced, (long)consumed);
  return produced == consumed ? 0 : 1;
}
