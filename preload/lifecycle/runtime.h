// runtime.h — the process-wide state of the preloaded detector.
// One Runtime exists per process; it is set up by the library constructor and
// re-made in a forked child. Fields read from signal handlers are plain data or
// lock-free (the board, the raw log writer, the flags after start-up).
#pragma once

#include <atomic>
#include <cstdint>

#include "clock_choice.h"
#include "detection_mode.h"
#include "flags.h"
#include "memory_access.h"
#include "race_record.h"
#include "raw_log_writer.h"
#include "run_stats.h"
#include "signal_safety.h"  // monotonic_ns
#include "sync_clocks.h"
#include "sync_words.h"
#include "thread_registry.h"
#include "watch_board.h"

namespace racetrap {

struct Runtime {
  Flags flags;
  // How races are found (detection_mode.h), fixed at start-up.
  DetectionMode mode = DetectionMode::kWatchpoints;
  bool active = false;  // perf works and RACETRAP_ENABLE: interposers run, threads may be watched
  // The start-up self-test saw a debug-register trap (or could not tell). False on
  // a host that drops the traps.
  bool breakpoints_fire = true;
  // Threads open their sampling clock (and breakpoints): always in value-change
  // mode, in watchpoint mode only where breakpoints fire (elsewhere no thread is
  // watched; lock-order and misuse checks still run).
  bool watches_threads() const { return mode == DetectionMode::kValueChange || breakpoints_fire; }
  WatchBoard board;
  ThreadRegistry registry;
  SyncClockTable sync_clocks;
  SyncWords sync_words;  // hand-written synchronization learned from samples
  RawLogWriter raw_log;
  RunStats stats;
  // The sampling period (sample_period_us of RACETRAP_SAMPLE_US and the mode): the
  // watchpoint mode's until the mode is chosen, before any thread samples.
  int64_t sample_us = kWatchpointSampleUs;
  uint64_t sample_period_ns = 0;
  // What samples each thread (RACETRAP_CLOCK, clock_choice.h), fixed with the
  // period at the second thread (watch_threads).
  ClockPolicy clock_policy = ClockPolicy::kPerf;
  // Under kByBehaviour, the period of the perf clock a thread that rarely blocks adds
  // to its timer (perf_top_up_period_us; 0: the timer alone samples every period).
  uint64_t perf_top_up_us = 0;
  // Threads sample on a periodic CPU-time timer first (kCpuTimer, kByBehaviour).
  bool starts_on_cpu_timer() const { return clock_policy != ClockPolicy::kPerf; }
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
  // Written by racetrap_start before any use (set_log_prefix, make_raw_path); not
  // zero-filled at construction, which would make 8 KiB of the runtime's zeroed
  // static storage resident for two short strings. Last, after every small member,
  // so only the pages of their heads are resident.
  char log_prefix[4096];  // absolute RACETRAP_LOG_PATH, or "stderr"
  char raw_path[4160];    // <log_prefix>.<pid>.raw
};

// The one Runtime (runtime.cc): storage built by the library constructor, never
// destroyed. Inline so the interposers' hot path reaches it without a call.
extern unsigned char g_runtime_storage[];
inline Runtime& runtime() { return *reinterpret_cast<Runtime*>(g_runtime_storage); }

// A process pays at start-up only for what cannot wait (the flags, perf support,
// the interposers and the SIGTRAP handler, the main thread's state for the lock
// checks): a process with one thread cannot race. The rest (the breakpoint
// self-test and the mode, libunwind, the main thread's sampling) waits for its
// second thread: watch_threads() runs it, from the pthread_create interposer,
// once per process. Ordinary context.
void watch_threads();
// True once watch_threads() has run (in this process or the parent it forked from).
// Inline: the allocator's interposers test it at every call.
extern std::atomic<bool> g_threads_watched;
inline bool threads_watched() { return g_threads_watched.load(std::memory_order_acquire); }
// libunwind is initialized (its validation pipe out of the program's way) before
// racetrap's first stack capture in ordinary context. Idempotent.
void ensure_stack_capture();
// Whether [address, address + size) holds a learned synchronization word. signal-safe.
inline bool is_learned_sync_word(uint64_t address, uint32_t size) {
  return runtime().sync_words.find(address, size) >= 0;
}

// True while the detector watches this process.
inline bool runtime_active() { return runtime().active; }

// False in a vfork() child (or a raw clone() without the atfork handlers), which
// shares this process's memory but is another process: it must not touch the
// runtime (no report, no raw stream). signal-safe (one getpid syscall).
bool in_own_process();

// interpose_fd.cc: while on, pipes opened (by libunwind at start-up) are moved
// to the top of the descriptor range and protected from close/close_range.
void relocate_library_pipes(bool on);

// Prints one line to stderr with write(2) (signal-safe).
void write_stderr_line(const char* text);

// Builds raw_path for the current pid (ordinary context).
void make_raw_path(Runtime& rt);

}  // namespace racetrap
