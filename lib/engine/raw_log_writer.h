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

// Where the stream goes: `path` when it can be created there, O_EXCL|O_NOFOLLOW,
// mode 0600 (a file or symlink already at the path is never opened or followed:
// `path`.1, .2, ... are tried instead); when the directory is not writable, the
// same name in $TMPDIR (or /tmp). path() is the one actually used.
class RawLogWriter {
 public:
  // The path buffers are left unwritten beyond their first byte: in the runtime's
  // zeroed static storage, 9 KiB written with zeros would be 3 resident pages.
  RawLogWriter() { path_[0] = wanted_[0] = tmp_dir_[0] = '\0'; }
  // `path` is the full raw-stream path (e.g. "/dir/racetrap.1234.raw"), copied.
  // `pid` goes into the header.
  void configure(const char* path, uint32_t pid);
  // The file is being made fresh in a forked child.
  void reset_after_fork(const char* path, uint32_t pid);

  bool append_race(const RaceRecord& record);
  bool append_thread(const ThreadRecord& record);
  // Lock-order inversions and pthread misuse (preload/interposers/lock_tracking.cc).
  bool append_lock_cycle(const LockCycleRecord& record);
  bool append_misuse(const MisuseRecord& record);
  // How often a recorded race repeated (preload/signal/watchpoint_trap.cc). Only into a
  // stream that is already open (a repeat always follows its race record).
  bool append_race_seen(const RaceSeenRecord& record);
  // A race already written for this PC pair is withdrawn (held_races.h): the report
  // leaves it out, and races_written() no longer counts it.
  bool append_race_withdrawn(const RaceSeenRecord& record);
  // Re-snapshots /proc/self/maps (e.g. after dlopen) into the stream.
  bool append_maps();

  bool opened() const {
    int s = state_.load(std::memory_order_acquire);
    return s == kOpen || s == kSealed;
  }
  // Stops appending (the file stays, for the exit-time report): threads still
  // running while the process exits cannot add to a report being rendered.
  // The before-seal hook, when set, runs first (while appends still work) so
  // counters kept in memory reach the stream; seal() runs in ordinary context.
  void seal();
  // signal-safe (one atomic store); nullptr removes it.
  void set_before_seal(void (*hook)()) { before_seal_.store(hook, std::memory_order_release); }
  bool failed() const { return state_.load(std::memory_order_acquire) == kFailed; }
  int error() const { return error_; }  // errno of the failed open
  const char* path() const { return path_; }
  // True when the stream had to go to the temporary directory (the report's own
  // directory was not writable).
  bool moved_to_tmp() const { return moved_to_tmp_; }
  uint64_t races_written() const { return races_.load(std::memory_order_relaxed); }
  // Ends the stream: later appends (threads still running during exit) are dropped
  // instead of creating a new file.
  void close();

 private:
  enum State : int { kClosed, kOpening, kOpen, kFailed, kFinished, kSealed };
  bool ensure_open();
  int create_file();
  bool append_chunk(ChunkType type, const void* payload, uint32_t length);
  char path_[4200];
  char wanted_[4200];   // the configured path
  char tmp_dir_[512];   // fallback directory
  bool moved_to_tmp_ = false;
  uint32_t pid_ = 0;
  int fd_ = -1;
  int error_ = 0;
  std::atomic<int> state_{kClosed};
  std::atomic<uint64_t> races_{0};
  std::atomic<void (*)()> before_seal_{nullptr};
};

}  // namespace racetrap
