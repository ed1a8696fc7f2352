// free_large_io.c — race-free: two threads, each writing a file of its own in
// blocks of 16 to 256 KiB (write, pwrite, fwrite) and reading it back (read, pread,
// fread), checking every byte, the byte counts and errno after a failing read of a
// closed descriptor. Between the calls each fills its buffers with a pattern of
// its own, so its samples land on its own buffers, which the other thread never
// touches: the other thread keeps a debug register armed on them for the watch's
// lifetime, and its large calls made meanwhile switch its registers off for the
// call (io_calls_unarmed > 0) and back on after. Exits 1 on a wrong byte or count.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deadline.h"
#include "two_threads.h"

#define MAX_BYTES (256 * 1024)

struct buffers {
  unsigned char pattern[MAX_BYTES];
  unsigned char back[MAX_BYTES];
  long bad;
};

static struct buffers per_thread[2];

static void check(struct buffers* b, int ok) {
  if (!ok) b->bad++;
}

static void fill(struct buffers* b, size_t n, unsigned round) {
  for (size_t i = 0; i < n; ++i) b->pattern[i] = (unsigned char)(i * 13 + round);
}

static void check_back(struct buffers* b, size_t n) {
  for (size_t i = 0; i < n; ++i) check(b, b->back[i] == b->pattern[i]);
  memset(b->back, 0, n);
}

static void* write_and_read(void* arg) {
  const struct thread_arg* a = arg;
  struct buffers* b = &per_thread[a->index];
  char path[] = "free_large_io.XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) {
    perror("mkstemp");
    exit(2);
  }
  unlink(path);
  struct deadline end = deadline_after(a->seconds);
  unsigned round = 0;
  while (before(&end)) {
    ++round;
    const size_t n = 16 * 1024 + (round * 2654435761u) % (MAX_BYTES - 16 * 1024);
    fill(b, n, round);
    check(b, pwrite(fd, b->pattern, n, 0) == (ssize_t)n);
    check(b, pread(fd, b->back, n, 0) == (ssize_t)n);
    check_back(b, n);
    check(b, lseek(fd, 0, SEEK_SET) == 0);
    check(b, write(fd, b->pattern, n) == (ssize_t)n);
    check(b, lseek(fd, 0, SEEK_SET) == 0);
    check(b, read(fd, b->back, n) == (ssize_t)n);
    check_back(b, n);
    // stdio on a second descriptor of the same file.
    FILE* f = fdopen(dup(fd), "w+");
    if (f == NULL) {
      b->bad++;
      continue;
    }
    check(b, fwrite(b->pattern, 1, n, f) == n);
    check(b, fflush(f) == 0);
    rewind(f);
    check(b, fread(b->back, 1, n, f) == n);
    fclose(f);
    check_back(b, n);
    // A failing call keeps its errno through the registers' switching.
    errno = 0;
    check(b, read(-1, b->back, n) == -1 && errno == EBADF);
  }
  close(fd);
  return NULL;
}

int main(int argc, char** argv) {
  run_in_two_threads(write_and_read, argc > 1 ? atof(argv[1]) : 1.0);
  long bad = per_thread[0].bad + per_thread[1].bad;
  printf("wrong bytes or counts: %ld\n", bad);
  return bad == 0 ? 0 : 1;
}
