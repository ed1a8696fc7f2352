// raw_log_writer.cc — lazily created, append-only raw report stream.
// signal-safe (see header): syscalls and a private mmap buffer, no malloc.
#include "raw_log_writer.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "perf_events.h"
#include "signal_safety.h"
#include "vdso_clock.h"

namespace racetrap {
namespace {

// signal-safe string helpers (no snprintf).
size_t copy_text(char* out, size_t cap, size_t at, const char* text) {
  while (*text != '\0' && at + 1 < cap) out[at++] = *text++;
  out[at] = '\0';
  return at;
}

size_t copy_number(char* out, size_t cap, size_t at, unsigned value) {
  char digits[12];
  int n = 0;
  do digits[n++] = static_cast<char>('0' + value % 10); while ((value /= 10) != 0);
  while (n > 0 && at + 1 < cap) out[at++] = digits[--n];
  out[at] = '\0';
  return at;
}

const char* base_name(const char* path) {
  const char* base = path;
  for (const char* p = path; *p != '\0'; ++p)
    if (*p == '/') base = p + 1;
  return base;
}

}  // namespace

void RawLogWriter::configure(const char* path, uint32_t pid) {
  copy_text(wanted_, sizeof wanted_, 0, path != nullptr ? path : "");
  copy_text(path_, sizeof path_, 0, wanted_);
  const char* tmp = std::getenv("TMPDIR");
  copy_text(tmp_dir_, sizeof tmp_dir_, 0, tmp != nullptr && tmp[0] == '/' ? tmp : "/tmp");
  moved_to_tmp_ = false;
  pid_ = pid;
  fd_ = -1;
  error_ = 0;
  state_.store(path != nullptr && path[0] != '\0' ? kClosed : kFailed, std::memory_order_release);
  races_.store(0, std::memory_order_relaxed);
}

void RawLogWriter::reset_after_fork(const char* path, uint32_t pid) {
  // The parent's stream: the child writes its own.
  if (fd_ >= 0) owned_fds::close_own(fd_);
  configure(path, pid);
}

void RawLogWriter::seal() {
  if (state_.load(std::memory_order_acquire) == kOpen) {
    if (void (*hook)() = before_seal_.load(std::memory_order_acquire)) hook();
  }
  int s = kOpen;
  state_.compare_exchange_strong(s, kSealed, std::memory_order_acq_rel);
}

void RawLogWriter::close() {
  int s = state_.exchange(kFinished, std::memory_order_acq_rel);
  if ((s == kOpen || s == kSealed) && fd_ >= 0) owned_fds::close_own(fd_);
  fd_ = -1;
}

// signal-safe. Creates the stream file: the configured path, else path.1 .. .9
// when something (a file, a symlink) is already there, else the same names in the
// temporary directory. -1 with error_ set when none can be created.
int RawLogWriter::create_file() {
  constexpr int kFlags = O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW | O_CLOEXEC;
  for (int where = 0; where < 2; ++where) {
    size_t base = 0;
    if (where == 0) {
      base = copy_text(path_, sizeof path_, 0, wanted_);
    } else {
      base = copy_text(path_, sizeof path_, 0, tmp_dir_);
      base = copy_text(path_, sizeof path_, base, "/");
      base = copy_text(path_, sizeof path_, base, base_name(wanted_));
    }
    for (unsigned attempt = 0; attempt < 10; ++attempt) {
      path_[base] = '\0';
      if (attempt > 0) {
        size_t at = copy_text(path_, sizeof path_, base, ".");
        copy_number(path_, sizeof path_, at, attempt);
      }
      int fd = ::open(path_, kFlags, 0600);
      if (fd >= 0) {
        moved_to_tmp_ = where == 1;
        return fd;
      }
      error_ = errno;
      if (errno != EEXIST && errno != ELOOP) break;  // the directory itself is the problem
    }
  }
  copy_text(path_, sizeof path_, 0, wanted_);
  return -1;
}

bool RawLogWriter::ensure_open() {
  for (;;) {
    int s = state_.load(std::memory_order_acquire);
    if (s == kOpen) return true;
    if (s == kFailed || s == kFinished || s == kSealed) return false;
    if (s == kOpening) {
      raw_sched_yield();
      continue;
    }
    if (!state_.compare_exchange_strong(s, kOpening, std::memory_order_acq_rel)) continue;
    int fd = create_file();
    if (fd < 0) {
      state_.store(kFailed, std::memory_order_release);
      return false;
    }
    int high = fcntl(fd, F_DUPFD_CLOEXEC, perf_fd_floor());
    if (high >= 0) {
      syscall(SYS_close, fd);
      fd = high;
    }
    owned_fds::own(fd, &fd_);
    RawFileHeader header;
    std::memcpy(header.magic, kRawMagic, sizeof header.magic);
    header.version = kRawVersion;
    header.pid = pid_;
    iovec iov{&header, sizeof header};
    write_fully(fd, &iov, 1);
    fd_ = fd;
    state_.store(kOpen, std::memory_order_release);
    append_maps();
    return true;
  }
}

bool RawLogWriter::append_chunk(ChunkType type, const void* payload, uint32_t length) {
  ChunkHeader header{static_cast<uint32_t>(type), length};
  iovec iov[2] = {{&header, sizeof header}, {const_cast<void*>(payload), length}};
  return write_fully(fd_, iov, 2);
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

bool RawLogWriter::append_lock_cycle(const LockCycleRecord& record) {
  ErrnoKeeper keep;
  if (!ensure_open()) return false;
  return append_chunk(ChunkType::kLockCycle, &record, sizeof record);
}

bool RawLogWriter::append_misuse(const MisuseRecord& record) {
  ErrnoKeeper keep;
  if (!ensure_open()) return false;
  return append_chunk(ChunkType::kMisuse, &record, sizeof record);
}

bool RawLogWriter::append_race_seen(const RaceSeenRecord& record) {
  ErrnoKeeper keep;
  if (state_.load(std::memory_order_acquire) != kOpen) return false;
  return append_chunk(ChunkType::kRaceSeen, &record, sizeof record);
}

bool RawLogWriter::append_race_withdrawn(const RaceSeenRecord& record) {
  ErrnoKeeper keep;
  if (state_.load(std::memory_order_acquire) != kOpen) return false;
  races_.fetch_sub(1, std::memory_order_relaxed);
  return append_chunk(ChunkType::kRaceWithdrawn, &record, sizeof record);
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
