// thread_state.h — what racetrap keeps for each thread of the program.
// A ThreadState is allocated before its thread runs (by the creator, or by the
// constructor for the main thread), so signal handlers only ever use memory that
// already exists. Handlers reach it through a static-TLS pointer.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "clock_choice.h"
#include "first_tick_timer.h"
#include "held_locks.h"
#include "pending_lock_edges.h"
#include "perf_events.h"
#include "race_record.h"
#include "random.h"
#include "report_policy.h"
#include "runtime.h"
#include "synced_objects.h"
#include "vector_clock.h"
#include "watch_board.h"

namespace racetrap {

// ThreadState::deferrable's values.
enum : int { kNotDeferrable = 0, kDeferrable = 1, kTickPostponed = 2 };

struct ThreadState {
  uint32_t uid = 0;
  uint32_t slot = 0;
  uint32_t os_tid = 0;
  VectorClock clock;  // reserved to kMaxThreadSlots: never reallocated

  BreakpointSlot breakpoints[kMaxWatchSlots];
  // Opened by the first tick (first_tick), or at once when no timer could be armed;
  // under RACETRAP_CLOCK=auto by a sample that sees the thread rarely block, and
  // closed by one that sees it block often (clock_switch.h).
  SampleClock sample_clock;
  FirstTickTimer first_tick;
  // Who arms a new thread's first-tick timer (FirstTickHandoff): its creator, right
  // after the clone, while the thread starts on its own (arm_first_tick_for), so
  // the timer's system calls are not on the new thread's way to the program's code.
  std::atomic<int> first_tick_handoff{0};
  // The CPU time to its first tick, in microseconds: a random part of one period,
  // drawn by its creator (create_thread_state), so that a thread that lives less
  // than a period is still sampled, with odds that grow with its CPU time
  // (first_tick_timer.h).
  uint64_t first_tick_us = 0;
  bool watching = false;  // this thread is sampled (clock or first-tick timer) and may arm breakpoints
  // RACETRAP_CLOCK=auto: the thread's CPU time and voluntary switches at its last
  // sample, from which the next one chooses its clock (clock_switch.h). Its own
  // signal handlers and begin_watching only.
  ThreadUsage usage_at_sample;
  // Sampling clocks passed on at thread creation (SampleClock::open): the main
  // thread's clock, once its first tick opens it, is inherited by every thread
  // created after that (and by the threads those create), so a new thread needs
  // neither a first-tick timer nor a perf event of its own. The main thread's
  // clock is kept open until the process ends: closing it would stop the copies.
  bool clock_root = false;       // the main thread: its clock is opened inheritable
  bool clock_inherited = false;  // this thread's clock came from its creator at its clone (no fd here)
  bool clock_passed_on = false;  // clock_root's clock is open and inheritable
  // 1 while this thread is inside pthread_create's clone: a first tick then does
  // not open the clock (whether the new thread inherited it would be unknown),
  // it leaves that to the interposer (clock_open_deferred).
  // memcpy/memmove/memset calls this thread made without fast-string instructions
  // (preload/interposers/interpose_string.cc); its own count, added to
  // RunStats::string_ops_plain by fold_thread_counts. volatile: its own signal
  // handlers copy too (a count lost to one is only a count).
  volatile uint64_t string_ops_plain = 0;
  volatile int creating_thread = 0;
  volatile int clock_open_deferred = 0;

  uint64_t board_version_seen = 0;
  uint64_t done_generation[kMaxWatchSlots] = {};  // one-shot: watches already trapped on

  AddressRange stack;  // this thread's stack (and, for glibc, its static TLS above it)
  AddressRange tls;    // static TLS block below the thread pointer
  // A sigaltstack racetrap installed because the thread's own stack is too small
  // for the SIGTRAP handler and the program had none (freed at thread exit).
  void* own_altstack = nullptr;
  size_t own_altstack_size = 0;
  // These three words are adjacent, in this order, 8-byte aligned (runtime_marks:
  // the lock fast paths write the first two with one store).
  // Inside an interposer: kNotDeferrable until its last acquire is made, then
  // kDeferrable (mark_deferrable); kTickPostponed when a sampling tick came before
  // that acquire: the sample is taken once the acquire is made (deferred_sample.h).
  alignas(8) int deferrable = 0;
  int in_runtime = 0;  // > 0 inside racetrap's own code: samples and traps are ignored (see enter_runtime)
  int in_signal_handler = 0;  // 1 while racetrap's SIGTRAP handler runs on this thread
  // The blocking mutex lock's fast path across its real call (interpose_sync.cc:
  // lock_fast), so that nothing of the interposer's is kept in registers across the
  // call and the work after it, inside the program's hold, is a few instructions.
  // The thread itself only, in ordinary context.
  struct LockCall {
    // The clock generation at which the mutex's clock held this thread's content
    // (nothing to join), or 0 when it was not known to.
    uint64_t known_generation = 0;
    uint64_t generation = 0;  // the generation read before the call (not known: for SyncedObjects)
    SyncClockTable::Entry* home = nullptr;  // not known: the mutex's sync-table entry, if any
    uint64_t version = 0;  // with home: its content id when the early join was made
  } lock_call;

  // Dynamic annotations (annotations.cc): > 0 between AnnotateIgnoreReadsBegin/End
  // (resp. Writes) in this thread: its reads (writes) are neither sampled nor
  // reported when they trap. Written by the thread itself, read by its own signal
  // handlers only (plain ints + signal fences).
  int ignore_reads = 0;
  int ignore_writes = 0;

  // Lock-order graph and pthread-misuse checks (preload/interposers/lock_tracking.cc): the
  // mutexes and rwlocks this thread holds, as far as the interposers saw them.
  // Read and written by the thread itself only, in ordinary context.
  HeldLocks held_locks;
  // The mutexes whose clocks last held this thread's clock content, and when
  // (the lock fast path's shortcut, synced_objects.h). The thread itself only.
  SyncedObjects synced_objects;
  // The objects whose clocks already held everything this thread's clock holds,
  // and when: a release into one at a generation that still stands adds nothing
  // (happens_before.h: release). The thread itself only.
  SyncedObjects released_objects;
  // New lock-order edges found while holding locks, added to the graph once the
  // thread holds none (lock_tracking.h).
  PendingLockEdges pending_edges;
  // pending_edges' pages faulted in and the snapshot pool stocked (prepare_lock_tracking);
  // its snapshot pair is claimed from the pool at the thread's first new edge.
  bool lock_tracking_prepared = false;

  // Value-change mode, writer search (writer_search.h): while step_budget > 0
  // (or a claimed write awaits its step, step_confirm) this thread single-steps
  // itself for search `step_generation`. Its own signal handlers only.
  uint32_t step_budget = 0;
  uint32_t step_confirm = 0;
  uint64_t step_generation = 0;

  // Hand-written synchronization (preload/signal/sync_word_edges.h). Register i
  // points at the learned word of the board watch of generation
  // sync_generation[i] instead of the watch's bytes (0: it does not); the watch's
  // sync phase ended for generation sync_settled[i]; it began at this thread's
  // working tick sync_armed_tick[i] (ticks - waiting_ticks);
  // sync_after_wait[i]: the watch's bytes were armed after an access of the word
  // the owner had not released yet.
  // Its own signal handlers and sync_debug_registers only.
  uint64_t sync_generation[kMaxWatchSlots] = {};
  uint64_t sync_settled[kMaxWatchSlots] = {};
  uint64_t sync_armed_tick[kMaxWatchSlots] = {};
  uint64_t sync_after_wait[kMaxWatchSlots] = {};  // generation armed after a wait for the owner's release
  uint64_t sync_early[kMaxWatchSlots] = {};  // generation armed on its bytes before the owner released the word
  uint64_t ticks = 0;  // sampling ticks taken
  // The thread's tick count and CPU time when its joins last looked at its clock
  // (preload/signal/missed_tick.h). The thread itself only, in ordinary context.
  uint64_t ticks_at_join = 0;
  uint64_t cpu_ns_at_join = 0;
  // Minor faults at the last tick (its own signal handlers only), and whether the
  // registers stay off for a burst of faults (fault_burst.h: set by its ticks and
  // by its large fresh allocations, read by sync_debug_registers).
  uint64_t minor_faults_at_tick = 0;
  volatile bool registers_paused = false;
  uint64_t waiting_ticks = 0;  // of them, those whose sample landed on a learned synchronization word

  Random random;
  ThreadRecord record;  // uid, creator and creation stack, for reports

  // Lifetime: the creator allocates; the state is freed by whoever comes last of
  // the thread's exit and its join (or detach).
  pthread_t handle{};
  // What pthread_create was given, for the new thread's start (no allocation in
  // it: a thread's first malloc or free sets up a glibc arena, tens of us before
  // the program's code runs), and the size of the stack glibc gives it (0: not known).
  void* (*start_routine)(void*) = nullptr;
  void* start_arg = nullptr;
  size_t stack_size = 0;
  std::atomic<int> lifecycle{0};  // bit 0: exited, bit 1: detached, bit 2: joined

  // Handler scratch (one handler at a time per thread: SIGTRAP is blocked inside it).
  Watch scratch_watch;
  Watch deferred_watch;  // a tick inside racetrap's code must not touch scratch_watch (deferred_sample.h)
  RaceRecord scratch_race;
  uint8_t code[160];  // code bytes around the interrupted pc (32 before it, 128 from it on)
  uint8_t code_scan[2048];  // the code around a race or value change searched for sync words (sync_word_edges.h)
};
static_assert(offsetof(ThreadState, in_runtime) == offsetof(ThreadState, deferrable) + 4 &&
                  offsetof(ThreadState, in_signal_handler) == offsetof(ThreadState, in_runtime) + 4 &&
                  offsetof(ThreadState, deferrable) % 8 == 0,
              "runtime_marks reads and writes two of these words at once");

// The calling thread's state, or nullptr (signal-safe). Static TLS (initial-exec:
// one %fs-relative load, inline on the interposers' hot path; the library is
// preloaded, so its TLS is in the static block). Set by attach/detach only.
extern constinit __attribute__((tls_model("initial-exec"))) thread_local ThreadState* tls_current;
inline ThreadState* current_thread() { return tls_current; }

// Ordinary context. A state for a new thread created by `parent` (nullptr for the
// main thread): leases a slot and sets up the clock. nullptr when no slot is left.
ThreadState* create_thread_state(ThreadState* parent);

// ThreadState::first_tick_handoff. kSelf: the thread arms its own timer at its
// start (begin_watching). kByCreator: its creator arms it after the clone; then
// kArmed (first_tick holds the timer: the thread's from here on), kFailed (no
// timer: the thread opens its perf clock at its start if it has not started yet),
// or kGivenUp (the thread stopped being watched first: the creator deletes the
// timer it made, whoever gets there second does the cleanup).
enum FirstTickHandoff : int { kSelf = 0, kByCreator = 1, kArmed = 2, kFailed = 3, kGivenUp = 4 };
// Ordinary context, in the creator before the clone: whether the new thread's
// first-tick timer is the creator's to arm (sets first_tick_handoff).
bool creator_arms_first_tick(ThreadState* child);
// Ordinary context, in the creator right after a successful clone of `handle`:
// arms the new thread's timer on its CPU-time clock. The caller keeps `child`
// from being freed meanwhile (the thread may already have exited and been joined:
// interpose_thread.cc, kCreatorDone).
void arm_first_tick_for(ThreadState* child, pthread_t handle);
// signal-safe. Whether a thread `t` creates now starts with `t`'s sampling clock
// (inherited at the clone: see ThreadState::clock_root).
inline bool passes_clock_on(const ThreadState& t) {
  return t.clock_inherited || (t.clock_passed_on && t.sample_clock.is_open());
}
// signal-safe. Opens the calling thread `t`'s sampling clock (its first tick, or
// at once when no first-tick timer could be armed); the main thread's is opened
// inheritable. False when it could not be opened.
inline bool open_sample_clock(ThreadState* t) {
  bool inherited = false;
  const bool ok = t->sample_clock.open(static_cast<uint64_t>(runtime().sample_us), t->clock_root, &inherited);
  t->clock_passed_on = inherited;
  return ok;
}
// In the new thread itself, before the program's code: binds the state to the
// thread and, once the process watches threads (threads_watched()), begins
// watching it (begin_watching).
void attach_thread_state(ThreadState* t);
// The calling thread `t` (attached) starts being watched: its stack range, its
// first-tick timer and its (lazily opened) breakpoints. For every new thread at
// attach, for the main thread when the process creates its second one.
void begin_watching(ThreadState* t);
// At thread exit: stops watching, unbinds the state. The state stays for join.
void detach_thread_state(ThreadState* t);
// Adds the counts `t` kept itself to the process's RunStats (at its exit, and for
// the thread that writes the exit report).
void fold_thread_counts(ThreadState* t);
// At thread exit, before its stack can be reused (glibc caches stacks for the
// next thread): retires every watch on the board on the thread's stack or TLS,
// so an old sample there never pairs with the next owner's accesses.
void retire_watches_on_thread_memory(const ThreadState* t);
// Gives the slot back and frees the state.
void destroy_thread_state(ThreadState* t);

// Marks `t` (the calling thread) as inside racetrap's own code. Only the thread
// itself and its own signal handlers read in_runtime, so signal fences suffice.
inline void enter_runtime(ThreadState* t) {
  t->in_runtime = t->in_runtime + 1;
  std::atomic_signal_fence(std::memory_order_seq_cst);
}
inline void leave_runtime(ThreadState* t) {
  std::atomic_signal_fence(std::memory_order_seq_cst);
  t->in_runtime = t->in_runtime - 1;
}

// The lock fast paths' view of deferrable, in_runtime and in_signal_handler
// (adjacent in ThreadState, in that order): the first two written with one store
// (whose value, in_runtime 0 and deferrable 1, fits an instruction's immediate), a
// single instruction, so the thread's own signal handlers, the only other readers,
// see both words change at once.
namespace runtime_marks {
using Word = uint64_t __attribute__((may_alias, aligned(4)));
// Whether the thread is inside racetrap's code or its SIGTRAP handler (either word
// non-zero). Two loads: one 8-byte load across in_runtime and in_signal_handler
// would straddle set()'s store, which the processor cannot forward to it (a stall
// of its own at every lock and unlock: measured +2.7 ns a pair).
inline uint32_t runtime_or_handler(const ThreadState* t) {
  return static_cast<uint32_t>(__atomic_load_n(&t->in_runtime, __ATOMIC_RELAXED) |
                               __atomic_load_n(&t->in_signal_handler, __ATOMIC_RELAXED));
}
// in_runtime and deferrable at once, for a thread that was outside racetrap
// (in_runtime 0 before its interposer entered) or comes back to it.
inline void set(ThreadState* t, int in_runtime, int deferrable) {
  std::atomic_signal_fence(std::memory_order_seq_cst);
  *reinterpret_cast<volatile Word*>(&t->deferrable) =
      static_cast<uint32_t>(deferrable) | static_cast<uint64_t>(static_cast<uint32_t>(in_runtime)) << 32;
  std::atomic_signal_fence(std::memory_order_seq_cst);
}
}  // namespace runtime_marks

// What the "don't report this" rules (report_policy.h) need to know about thread
// `t` at a sample or a trap. signal-safe.
inline AccessContext access_context(const ThreadState& t, const Runtime& rt,
                                    bool (*declared_benign)(uint64_t, uint32_t)) {
  AccessContext c;
  c.stack = t.stack;
  c.tls = t.tls;
  c.runtime_data = rt.libc_data;
  c.runtime_data_count = rt.libc_data_count;
  c.ignore_reads = t.ignore_reads;
  c.ignore_writes = t.ignore_writes;
  c.report_atomics = rt.flags.report_atomics;
  c.declared_benign = declared_benign;
  if (rt.flags.sync_words) c.is_sync_word = &is_learned_sync_word;
  return c;
}

// RAII: marks the calling thread as inside racetrap's own code, the one guard
// for interposers and signal handlers alike. signal-safe.
class RuntimeScope {
 public:
  RuntimeScope() : RuntimeScope(current_thread()) {}
  // `t`: the calling thread's state (current_thread()), already looked up.
  explicit RuntimeScope(ThreadState* t) : t_(t) {
    if (t_) {
      if (t_->in_runtime == 0) {
        // A stale deferrable from the previous interposer call must be cleared
        // before in_runtime says "inside": a tick in between would otherwise defer
        // a sample across an acquire that is still to come (happens_before.h).
        t_->deferrable = kNotDeferrable;
        std::atomic_signal_fence(std::memory_order_seq_cst);
      }
      enter_runtime(t_);
    }
  }
  explicit RuntimeScope(ThreadState& t) : RuntimeScope(&t) {}
  ~RuntimeScope() {
    if (t_) leave_runtime(t_);
  }
  ThreadState* thread() const { return t_; }
  RuntimeScope(const RuntimeScope&) = delete;
  RuntimeScope& operator=(const RuntimeScope&) = delete;

 private:
  ThreadState* t_;
};

}  // namespace racetrap
