// raw_log_writer.cc — lazily created, append-only raw report stream.
// signal-safe (see header): syscalls and a private mmap buffer, no malloc.
#include "raw_log_writer.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "perf_events.h"

namespace racetrap {
namespace {

struct ErrnoKeeper {
  int saved = errno;
  ~ErrnoKeeper() { errno = saved; }
};

bool write_all(int fd, const iovec* iov, int count) {
  // One writev for the whole chunk; a short write (disk full) is finished in pieces.
  size_t total = 0;
  for (int i = 0; i < count; ++i) total += iov[i].iov_len;
  ssize_t n;
  do n = writev(fd, iov, count); while (n < 0 && errno == EINTR);
  if (n < 0) return false;
  if (static_cast<size_t>(n) == total) return true;
  size_t done = static_cast<size_t>(n);
  for (int i = 0; i < count; ++i) {
    const char* base = static_cast<const char*>(iov[i].iov_base);
    size_t len = iov[i].iov_len;
    if (done >= len) { done -= len; continue; }
    base += done;
    len -= done;
    done = 0;
    while (len > 0) {
      ssize_t w = write(fd, base, len);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      base += w;
      len -= static_cast<size_t>(w);
    }
  }
  return true;
}

}  // namespace

void RawLogWriter::configure(const char* path, uint32_t pid) {
  path_ = path;
  pid_ = pid;
  fd_ = -1;
  state_.store(kClosed, std::memory_order_release);
  races_.store(0, std::memory_order_relaxed);
}

void RawLogWriter::reset_after_fork(const char* path, uint32_t pid) {
  if (fd_ >= 0) ::close(fd_);  // the parent's stream: the child writes its own
  configure(path, pid);
}

void RawLogWriter::close() {
  if (state_.load(std::memory_order_acquire) == kOpen && fd_ >= 0) ::close(fd_);
  fd_ = -1;
  state_.store(kClosed, std::memory_order_release);
}

bool RawLogWriter::ensure_open() {
  for (;;) {
    int s = state_.load(std::memory_order_acquire);
    if (s == kOpen) return true;
    if (s == kFailed || path_ == nullptr) return false;
    if (s == kOpening) {
      sched_yield();
      continue;
    }
    if (!state_.compare_exchange_strong(s, kOpening, std::memory_order_acq_rel)) continue;
    int fd = ::open(path_, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
      error_ = errno;
      state_.store(kFailed, std::memory_order_release);
      return false;
    }
    int high = fcntl(fd, F_DUPFD_CLOEXEC, perf_fd_floor());
    if (high >= 0) {
      ::close(fd);
      fd = high;
    }
    RawFileHeader header;
    std::memcpy(header.magic, kRawMagic, sizeof header.magic);
    header.version = kRawVersion;
    header.pid = pid_;
    iovec iov{&header, sizeof header};
    write_all(fd, &iov, 1);
    fd_ = fd;
    state_.store(kOpen, std::memory_order_release);
    append_maps();
    return true;
  }
}

bool RawLogWriter::append_chunk(ChunkType type, const void* payload, uint32_t length) {
  ChunkHeader header{static_cast<uint32_t>(type), length};
  iovec iov[2] = {{&header, sizeof header}, {const_cast<void*>(payload), length}};
  return write_all(fd_, iov, 2);
}

bool RawLogWriter::append_race(const RaceRecord& record) {
  ErrnoKeeper keep;
  if (!ensure_open()) return false;
  races_.fetch_add(1, std::memory_order_relaxed);
  return append_chunk(ChunkType::kRace, &record, sizeof record);
}

bool RawLogWriter::append_thread(const ThreadRecord& record) {
  ErrnoKeeper keep;
  if (!ensure_open()) return false;
  return append_chunk(ChunkType::kThread, &record, sizeof record);
}

bool RawLogWriter::append_maps() {
  ErrnoKeeper keep;
  if (state_.load(std::memory_order_acquire) != kOpen) return false;
  int maps = ::open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (maps < 0) return false;
  constexpr size_t kCapacity = 8u << 20;  // reserved, touched only as far as it is filled
  void* mem = mmap(nullptr, kCapacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mem == MAP_FAILED) {
    ::close(maps);
    return false;
  }
  char* buf = static_cast<char*>(mem);
  size_t used = 0;
  for (;;) {
    ssize_t n = read(maps, buf + used, kCapacity - used);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    used += static_cast<size_t>(n);
    if (used == kCapacity) break;
  }
  ::close(maps);
  bool ok = append_chunk(ChunkType::kMaps, buf, static_cast<uint32_t>(used));
  munmap(mem, kCapacity);
  return ok;
}

}  // namespace racetrap
