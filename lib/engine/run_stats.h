// run_stats.h — the counters of one run: written by the signal path and the
// interposers (relaxed atomics), read at exit for the statistics line and the
// reports' "stats" (lib/report/report_library.cc).
#pragma once

#include <atomic>
#include <cstdint>
#include <new>

namespace racetrap {

struct RunStats {
  std::atomic<uint64_t> samples{0}, samples_in_runtime{0}, samples_deferred{0}, samples_no_access{0},
      samples_filtered{0}, watches_published{0}, arms{0}, traps{0}, traps_stale{0}, races{0};
  // The sampler's diversity policy (preload/signal/sampler.cc, pc_diversity.h): samples whose PC
  // yielded (watched often, never conflicting), samples the board would not take
  // (no stack captured), traps on a live watch (conflicts), watches retired early
  // because no other thread touched their bytes, and race verdicts on a PC pair
  // already reported (not re-recorded).
  std::atomic<uint64_t> samples_yielded{0}, samples_not_chosen{0}, conflicts{0}, watches_retired_quiet{0},
      races_repeated{0};
  // Value-change mode (preload/signal/value_change.cc): stalls and their total time,
  // changes seen (and those ignored: not the program's private memory), writer
  // searches and writers found by them.
  std::atomic<uint64_t> stalls{0}, stall_ns{0}, value_changes{0}, value_changes_ignored{0}, writer_searches{0},
      writers_found{0};
  // Hand-written synchronization (sync_words.h): words learned, traps of a watch
  // owner's release through its word, accesses of a word that ordered a watch
  // before the accessing thread, and watches a thread gave up, or conflicts left
  // without a verdict, because whether the word ordered them could not be told.
  std::atomic<uint64_t> sync_words_learned{0}, sync_releases{0}, sync_ordered{0}, sync_unordered{0};
  // RACETRAP_CLOCK=auto (clock_choice.h): threads moved from their CPU-time timer to a
  // perf clock of their own (they blocked rarely), and back (they blocked often).
  std::atomic<uint64_t> clock_to_perf{0}, clock_to_timer{0};
  // memcpy/memmove/memset calls that copied without fast-string instructions because
  // the calling thread had a debug register armed (preload/interposers/interpose_string.cc).
  std::atomic<uint64_t> string_ops_plain{0};
  // Large read/write-family calls made with the calling thread's armed debug registers
  // switched off for the call (preload/interposers/interpose_io.cc).
  std::atomic<uint64_t> io_calls_unarmed{0};
  // Pauses of a thread's registers for its page faults (preload/signal/fault_burst.h):
  // started at a tick, and at a large fresh allocation.
  std::atomic<uint64_t> fault_pauses{0}, fault_pauses_at_alloc{0};
  // Ticks inside an interposer before its acquire, taken once the acquire was made
  // (preload/signal/deferred_sample.h: raise_postponed_tick).
  std::atomic<uint64_t> samples_postponed{0};
  // Ticks a thread whose clock its children share took at a join, for CPU time its
  // clock did not count (preload/signal/missed_tick.h).
  std::atomic<uint64_t> missed_ticks_taken{0};
  // Large memcpy/memmove/memset calls by an armed thread whose fresh destination pages
  // were faulted in with its registers off first (preload/interposers/fresh_pages.h).
  std::atomic<uint64_t> string_ops_faulted_in{0};
  // Ticks dropped before decoding because their line of code had published many
  // watches and none conflicted (pc_diversity.h, admit_tick).
  std::atomic<uint64_t> samples_thinned{0};
  // Traps of debug registers whose SIGTRAP was merged into another register's (one
  // access fired both; preload/signal/merged_traps.h), handled with it.
  std::atomic<uint64_t> traps_merged{0};
  // Traps the start-up self-test received (1 where breakpoints fire, 0 where not).
  std::atomic<uint64_t> self_test_traps{0};
};

// Every counter of this run back to 0 (a forked child's run starts afresh); the
// start-up self-test's outcome is the process's, and a child keeps it.
inline void reset_run_stats(RunStats& s) {
  const uint64_t self_test = s.self_test_traps.load(std::memory_order_relaxed);
  s.~RunStats();
  new (&s) RunStats;
  s.self_test_traps.store(self_test, std::memory_order_relaxed);
}

}  // namespace racetrap
