// main_stack_range.cc — see main_stack_range.h.
#include "main_stack_range.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>

// glibc: the stack pointer at process entry (the top of the main thread's frames).
extern "C" void* __libc_stack_end;

namespace racetrap {

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

bool main_thread_stack_range(uint64_t* begin, uint64_t* end) {
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  const uint64_t sp = reinterpret_cast<uint64_t>(__libc_stack_end);
  const uint64_t stack_end = (sp & ~(page - 1)) + page;
  rlimit lim{};
  if (getrlimit(RLIMIT_STACK, &lim) != 0) return false;
  int fd;
  do fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) return false;
  // Each line starts "from-to " in hex; the rest of the line is skipped.
  enum { kFrom, kTo, kRest } field = kFrom;
  uint64_t from = 0, to = 0, last_to = 0;
  bool found = false;
  char buf[4096];
  while (!found) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (ssize_t i = 0; i < n && !found; ++i) {
      const char c = buf[i];
      if (c == '\n') {
        field = kFrom;
        from = to = 0;
        continue;
      }
      if (field == kRest) continue;
      const int d = hex_digit(c);
      if (d >= 0) {
        (field == kFrom ? from : to) = (field == kFrom ? from : to) * 16 + static_cast<uint64_t>(d);
      } else if (field == kFrom && c == '-') {
        field = kTo;
      } else if (field == kTo) {
        field = kRest;
        if (from <= sp && sp < to) {
          // As glibc: the rlimit's worth below the mapping's end, page-aligned, and
          // never below the end of the mapping before it.
          uint64_t size = static_cast<uint64_t>(lim.rlim_cur) - (to - stack_end);
          size &= ~(page - 1);
          if (size > stack_end - last_to) size = stack_end - last_to;
          *begin = stack_end - size;
          *end = stack_end;
          found = true;
        } else {
          last_to = to;
        }
      } else {
        field = kRest;  // not a "from-to" line
      }
    }
  }
  close(fd);
  return found;
}

}  // namespace racetrap
