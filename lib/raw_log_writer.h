// raw_log_writer.h — appends the raw report stream (race_record.h) while the
// program runs. The file is created on the first record, so a run without races
// leaves nothing behind. Each chunk is one write(2) on an O_APPEND descriptor: a
// crash or SIGKILL loses nothing already recorded.
// Contract: append_* are signal-safe (open/read/write/mmap only, errno kept).
// configure() and reset_after_fork() run in ordinary context.
#pragma once

#include <atomic>
#include <cstdint>

#include "race_record.h"

namespace racetrap {

class RawLogWriter {
 public:
  // `path` is the full raw-stream path (e.g. "/dir/racetrap.1234.raw"); it must
  // stay valid. `pid` goes into the header.
  void configure(const char* path, uint32_t pid);
  // The file is being made fresh in a forked child.
  void reset_after_fork(const char* path, uint32_t pid);

  bool append_race(const RaceRecord& record);
  bool append_thread(const ThreadRecord& record);
  // Re-snapshots /proc/self/maps (e.g. after dlopen) into the stream.
  bool append_maps();

  bool opened() const { return state_.load(std::memory_order_acquire) == kOpen; }
  bool failed() const { return state_.load(std::memory_order_acquire) == kFailed; }
  int error() const { return error_; }  // errno of the failed open
  const char* path() const { return path_; }
  uint64_t races_written() const { return races_.load(std::memory_order_relaxed); }
  void close();

 private:
  enum State : int { kClosed, kOpening, kOpen, kFailed };
  bool ensure_open();
  bool append_chunk(ChunkType type, const void* payload, uint32_t length);
  const char* path_ = nullptr;
  uint32_t pid_ = 0;
  int fd_ = -1;
  int error_ = 0;
  std::atomic<int> state_{kClosed};
  std::atomic<uint64_t> races_{0};
};

}  // namespace racetrap
