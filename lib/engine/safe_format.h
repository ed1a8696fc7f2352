// safe_format.h — building a line of text without allocation, for diagnostics
// written from signal handlers. Contract: signal-safe; output is truncated to the
// buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unistd.h>

namespace racetrap {

class LineBuffer {
 public:
  LineBuffer& text(const char* s) {
    while (*s && used_ < sizeof buf_ - 1) buf_[used_++] = *s++;
    return *this;
  }
  LineBuffer& hex(uint64_t v) {
    char digits[16];
    int n = 0;
    do digits[n++] = "0123456789abcdef"[v & 15]; while ((v >>= 4) != 0);
    text("0x");
    while (n > 0 && used_ < sizeof buf_ - 1) buf_[used_++] = digits[--n];
    return *this;
  }
  LineBuffer& dec(uint64_t v) {
    char digits[20];
    int n = 0;
    do digits[n++] = static_cast<char>('0' + v % 10); while ((v /= 10) != 0);
    while (n > 0 && used_ < sizeof buf_ - 1) buf_[used_++] = digits[--n];
    return *this;
  }
  // Writes the line and a newline to fd.
  void write_line(int fd) {
    buf_[used_++] = '\n';
    (void)!::write(fd, buf_, used_);
    used_ = 0;
  }

 private:
  char buf_[256];
  size_t used_ = 0;
};

}  // namespace racetrap
