// private_mapping.cc — see private_mapping.h. signal-safe throughout.
#include "private_mapping.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace racetrap {
namespace {

// Parses a hexadecimal number at *p up to a byte not a hex digit. signal-safe.
bool parse_hex(const char*& p, const char* end, uint64_t* out) {
  uint64_t v = 0;
  const char* start = p;
  for (; p < end; ++p) {
    const char c = *p;
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) break;
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  *out = v;
  return p != start && p - start <= 16;
}

bool has_suffix_word(const char* line, size_t len, const char* word) {
  const size_t n = std::strlen(word);
  return len >= n && std::memcmp(line + len - n, word, n) == 0;
}

}  // namespace

bool parse_maps_line(const char* line, size_t len, MapsLine* out) {
  const char* p = line;
  const char* end = line + len;
  MapsLine m;
  if (!parse_hex(p, end, &m.begin) || p == end || *p != '-') return false;
  ++p;
  if (!parse_hex(p, end, &m.end) || p == end || *p != ' ') return false;
  ++p;
  if (end - p < 4) return false;
  m.writable = p[1] == 'w';
  m.shared = p[3] == 's';
  // The path, if any, is the last field; trailing spaces are not part of it.
  while (len > 0 && line[len - 1] == ' ') --len;
  m.special = has_suffix_word(line, len, "[vvar]") || has_suffix_word(line, len, "[vvar_vclock]") ||
              has_suffix_word(line, len, "[vdso]") || has_suffix_word(line, len, "[vsyscall]");
  *out = m;
  return true;
}

bool in_private_writable_memory(uint64_t address, uint32_t size) {
  const int saved_errno = errno;
  bool result = false;
  const int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    errno = saved_errno;
    return false;
  }
  char buf[2048];
  size_t have = 0;
  bool done = false;
  while (!done) {
    const ssize_t n = read(fd, buf + have, sizeof buf - have);
    if (n <= 0) break;
    have += static_cast<size_t>(n);
    size_t start = 0;
    for (size_t i = 0; i < have; ++i) {
      if (buf[i] != '\n') continue;
      MapsLine m;
      if (parse_maps_line(buf + start, i - start, &m) && address >= m.begin && address < m.end) {
        // The lines are sorted: the one holding the first byte decides (an access
        // of at most 64 bytes that crosses into the next mapping is not judged).
        result = address + size <= m.end && m.writable && !m.shared && !m.special;
        done = true;
        break;
      }
      start = i + 1;
    }
    if (done) break;
    // Keep the unfinished last line; a line longer than the buffer is dropped.
    if (start == 0 && have == sizeof buf) start = have;
    std::memmove(buf, buf + start, have - start);
    have -= start;
  }
  close(fd);
  errno = saved_errno;
  return result;
}

}  // namespace racetrap
