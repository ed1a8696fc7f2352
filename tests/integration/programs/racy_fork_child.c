// racy_fork_child.c — a forked child's races are its own. The parent's two
// threads race (and are reported), are joined, then the parent forks; in the
// child two new threads race on the same code, and the child ends as argv[2]
// says: "exit" (returns from main), "_exit" (no exit handlers, no destructors),
// or "exec" (execs this program as "exec-image", which only prints and exits);
// with "thread" the fork is made by a thread the main thread created (the child
// process's only thread then races with one thread it creates, and exits): that
// thread's own sampling clock must work in the child too.
// The parent waits for it and prints "child <pid>".
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "deadline.h"

static volatile long counter;

static void* increment_counter(void* arg) {
  struct deadline end = deadline_after(*(const double*)arg);
  while (before(&end)) {
    for (int i = 0; i < 1000; i++) {
      counter = counter + 1;  // RACE
    }
  }
  return NULL;
}

static void race(double seconds) {
  pthread_t a, b;
  pthread_create(&a, NULL, increment_counter, &seconds);
  pthread_create(&b, NULL, increment_counter, &seconds);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
}

// "thread": the forking thread races with one thread of its own in the child.
static void* fork_in_thread(void* arg) {
  double seconds = *(const double*)arg;
  pid_t child = fork();
  if (child == 0) {
    pthread_t b;
    pthread_create(&b, NULL, increment_counter, &seconds);
    increment_counter(&seconds);
    pthread_join(b, NULL);
    exit(0);
  }
  int status = 0;
  if (child < 0 || waitpid(child, &status, 0) != child) return (void*)(long)-1;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? (void*)(long)child : (void*)(long)-1;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  const char* ending = argc > 2 ? argv[2] : "exit";
  if (strcmp(ending, "exec-image") == 0) {
    printf("exec'd image\n");
    return 0;
  }
  race(seconds);
  fflush(stdout);
  if (strcmp(ending, "thread") == 0) {
    pthread_t t;
    void* result = NULL;
    pthread_create(&t, NULL, fork_in_thread, &seconds);
    pthread_join(t, &result);
    if ((long)result <= 0) return 1;
    printf("child %d\n", (int)(long)result);
    return 0;
  }
  pid_t child = fork();
  if (child == 0) {
    race(seconds);
    if (strcmp(ending, "_exit") == 0) _exit(0);
    if (strcmp(ending, "exec") == 0) {
      execl("/proc/self/exe", argv[0], argv[1], "exec-image", (char*)NULL);
      _exit(127);
    }
    return 0;
  }
  int status = 0;
  if (child < 0 || waitpid(child, &status, 0) != child) return 2;
  printf("child %d\n", (int)child);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
