// list_push_unlocked.c — two threads push nodes (from their own preallocated
// pools) onto one shared singly linked list with a plain load and store of the
// head pointer, and recycle by resetting it: a write-write race on `head`.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "deadline.h"

struct node {
  struct node* next;
  uint64_t payload;
};

static struct node* volatile head;

static void* pusher(void* p) {
  struct deadline end = deadline_after(*(const double*)p);
  struct node* pool = calloc(1024, sizeof *pool);
  unsigned n = 0;
  while (before(&end)) {
    for (int i = 0; i < 256; i++) {
      struct node* node = &pool[n++ & 1023];
      node->payload = n;
      node->next = head;  // RACE
      head = node;  // RACE
    }
  }
  return pool;  // freed by main after both threads are joined
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  pthread_t a, b;
  pthread_create(&a, NULL, pusher, &seconds);
  pthread_create(&b, NULL, pusher, &seconds);
  void *pa, *pb;
  pthread_join(a, &pa);
  pthread_join(b, &pb);
  printf("head payload %llu\n", (unsigned long long)head->payload);
  free(pa);
  free(pb);
  return 0;
}
