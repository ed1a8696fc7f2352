// exec_no_malloc.c — execl and execle must not allocate: POSIX makes them
// async-signal-safe, and programs call them in a vfork() child, which shares the
// parent's heap. This program's own malloc family (it wins over every library's)
// counts calls while the flag is set; execl and execle of a path that does not
// exist fail and return, and the count must still be 0.
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

extern void* __libc_malloc(size_t);
extern void* __libc_calloc(size_t, size_t);
extern void* __libc_realloc(void*, size_t);
extern void __libc_free(void*);

static volatile int counting;
static volatile int allocations;

void* malloc(size_t n) {
  if (counting) ++allocations;
  return __libc_malloc(n);
}
void* calloc(size_t n, size_t size) {
  if (counting) ++allocations;
  return __libc_calloc(n, size);
}
void* realloc(void* p, size_t n) {
  if (counting) ++allocations;
  return __libc_realloc(p, n);
}
void free(void* p) { __libc_free(p); }

int main(void) {
  static const char* const missing = "/nonexistent/racetrap-exec-no-malloc";
  char* env[] = {"A=1", NULL};
  counting = 1;
  int rc1 = execl(missing, "prog", "a", "b", "c", (char*)NULL);
  int err1 = errno;
  int rc2 = execle(missing, "prog", "a", (char*)NULL, env);
  int err2 = errno;
  counting = 0;
  printf("execl %d %s, execle %d %s, allocations %d\n", rc1, err1 == ENOENT ? "ENOENT" : "?", rc2,
         err2 == ENOENT ? "ENOENT" : "?", allocations);
  return allocations == 0 && rc1 == -1 && rc2 == -1 && err1 == ENOENT && err2 == ENOENT ? 0 : 1;
}
