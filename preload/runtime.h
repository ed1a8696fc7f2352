// runtime.h — the process-wide state of the preloaded detector.
// One Runtime exists per process; it is set up by the library constructor and
// re-made in a forked child. Fields read from signal handlers are plain data or
// lock-free (the board, the raw log writer, the flags after start-up).
#pragma once

#include <atomic>
#include <cstdint>

#include "flags.h"
#include "race_record.h"
#include "raw_log_writer.h"
#include "sync_clocks.h"
#include "thread_registry.h"
#include "watch_board.h"

namespace racetrap {

struct AddressRange {
  uint64_t begin = 0, end = 0;
  bool contains(uint64_t a) const { return a >= begin && a < end; }
};

struct RunStats {
  std::atomic<uint64_t> samples{0}, samples_in_runtime{0}, samples_deferred{0}, samples_no_access{0},
      samples_filtered{0}, watches_published{0}, arms{0}, traps{0}, traps_stale{0}, races{0};
  // The sampler's diversity policy (sampler.cc, lib/pc_diversity.h): samples whose PC
  // yielded (watched often, never conflicting), samples the board would not take
  // (no stack captured), traps on a live watch (conflicts), watches retired early
  // because no other thread touched their bytes, and race verdicts on a PC pair
  // already reported (not re-recorded).
  std::atomic<uint64_t> samples_yielded{0}, samples_not_chosen{0}, conflicts{0}, watches_retired_quiet{0},
      races_repeated{0};
};

// Every counter back to 0 (a forked child's run starts afresh).
inline void reset_run_stats(RunStats& s) {
  for (std::atomic<uint64_t>* c : {&s.samples, &s.samples_in_runtime, &s.samples_deferred, &s.samples_no_access,
                                   &s.samples_filtered, &s.watches_published, &s.arms, &s.traps, &s.traps_stale,
                                   &s.races, &s.samples_yielded, &s.samples_not_chosen, &s.conflicts,
                                   &s.watches_retired_quiet, &s.races_repeated})
    c->store(0, std::memory_order_relaxed);
}

struct Runtime {
  Flags flags;
  bool active = false;  // perf works and RACETRAP_ENABLE: threads sample and watch
  WatchBoard board;
  ThreadRegistry registry;
  SyncClockTable sync_clocks;
  RawLogWriter raw_log;
  RunStats stats;
  uint64_t sample_period_ns = 0;
  char log_prefix[4096] = {};   // absolute RACETRAP_LOG_PATH, or "stderr"
  char raw_path[4160] = {};     // <log_prefix>.<pid>.raw
  // Who each live thread slot belongs to, for the thread blocks of reports; a
  // record is appended to the raw log the first time a race involves it. Both point
  // at kMaxThreadSlots-long static arrays (runtime.cc) that are never zeroed at
  // start-up: 1.2 MiB of untouched zero pages cost no memory until threads use them.
  ThreadRecord* thread_records = nullptr;
  std::atomic<uint32_t>* thread_record_logged = nullptr;  // uid + 1 once logged
  std::atomic<uint32_t> thread_slots_used{0};  // 1 + the highest slot ever leased
  AddressRange libc_data[4];    // writable segments of libc and ld.so: their own state
  int libc_data_count = 0;
  uint32_t pid = 0;
};

Runtime& runtime();

// True while the detector watches this process.
inline bool runtime_active() { return runtime().active; }

// False in a vfork() child (or a raw clone() without the atfork handlers), which
// shares this process's memory but is another process: it must not touch the
// runtime (no report, no raw stream). signal-safe (one getpid syscall).
bool in_own_process();

// interpose_fd.cc: while on, pipes opened (by libunwind at start-up) are moved
// to the top of the descriptor range and protected from close/close_range.
void relocate_library_pipes(bool on);

// Nanoseconds of CLOCK_MONOTONIC (signal-safe, vDSO).
uint64_t monotonic_ns();

// Prints one line to stderr with write(2) (signal-safe).
void write_stderr_line(const char* text);

// Builds raw_path for the current pid (ordinary context).
void make_raw_path(Runtime& rt);

}  // namespace racetrap
