// fiber_scheduler.h — deterministic interleavings of the happens-before engine.
//
// N simulated threads, each a Boost.Context fiber running a script the test writes.
// Nothing runs concurrently: a thread runs until it calls yield() (or blocks on a
// simulated mutex / condition variable, or ends), then control returns to the
// scheduler, which resumes the next thread named by the test's schedule. So an
// interleaving is exact and independent of timing.
//
// Each simulated thread gets what the preload gives a real one: a slot and uid from
// ThreadRegistry, a VectorClock and its own debug registers, and its operations
// call the same engine functions the preload calls (happens_before_edges.h,
// watch_decisions.h, race_check.h) at the same points:
//   create(child)  create_edge (the child starts from the parent's clock)
//   join(child)    (waits until it ends) join_edge; the registry releases the
//                  child's slot with its last epoch; the registers are synced
//   lock(m)        waits while another thread holds m; acquire_edge; registers
//                  synced when the board changed
//   unlock(m)      release_edge
//   signal/broadcast(cv)  release_edge; wake one / all
//   wait(cv, m)    unlock(m); block until signalled; acquire_edge(cv); lock(m)
//   (the sync table's content-id shortcut runs under every explored interleaving:
//   releases do not tick, a sample does, as in the preload)
//   tick()         a sampling tick that samples nothing: registers synced
//   sample(access) a sampling tick: registers synced, then build_watch and publish
//   touch(access)  a tick lands right before the access (registers synced), then
//                  the access: every armed register whose block it hits and whose
//                  type fires on it (RW, or W and the access writes) traps once
//                  (one-shot); a register armed for a generation the board has
//                  replaced is stale (no verdict); otherwise judge_trap, and a
//                  race retires the watch, as the preload's trap does
// Registers are synced as the preload's sync_debug_registers does: only when the
// board changed since the last sync, each slot armed exactly when should_arm says.
// So a watch already ordered before a thread is never armed by it, and a verdict
// of kOrdered needs a register armed before the acquire that ordered it.
#pragma once

#include <boost/context/fiber.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "memory_access.h"
#include "race_check.h"
#include "random.h"
#include "sync_clocks.h"
#include "thread_registry.h"
#include "vector_clock.h"
#include "watch_board.h"

namespace racetrap::interleave {

class Scheduler;
class SimThread;

using ThreadId = int;
using Script = std::function<void(SimThread&)>;

// One judged trap.
struct TouchResult {
  int board_slot;
  uint64_t generation;
  uint32_t owner_uid;
  TrapVerdict verdict;
};

class SimThread {
 public:
  ThreadId id() const { return id_; }
  const std::string& name() const { return name_; }
  uint32_t slot() const { return slot_; }
  uint32_t uid() const { return uid_; }
  uint32_t tid() const { return tid_; }
  Epoch epoch() const { return clock_.get(slot_); }
  const VectorClock& clock() const { return clock_; }
  bool started() const { return started_; }
  bool finished() const { return finished_; }

  // Give control back to the scheduler.
  void yield();
  // A sampling tick that samples nothing: brings the registers up to date.
  void tick();

  void create(ThreadId child);
  void join(ThreadId child);
  void lock(uintptr_t mutex);
  void unlock(uintptr_t mutex);
  void signal(uintptr_t cv);
  void broadcast(uintptr_t cv);
  void wait(uintptr_t cv, uintptr_t mutex);

  // Publishes a watch for `access`; returns the board slot (-1 when not published).
  int sample(const MemoryAccess& access);
  // Makes the access; every trap it causes is judged, and every verdict is also
  // appended to touches().
  std::vector<TouchResult> touch(const MemoryAccess& access);
  const std::vector<TouchResult>& touches() const { return touches_; }
  int touch_calls() const { return touch_calls_; }
  // The board generation register `i` is armed for (0: not armed).
  uint64_t armed_generation(int i) const { return registers_.at(static_cast<size_t>(i)).generation; }

 private:
  friend class Scheduler;
  SimThread(Scheduler* sched, ThreadId id, std::string name, Script script)
      : sched_(sched), id_(id), name_(std::move(name)), script_(std::move(script)) {}
  void start(SimThread* parent);  // lease a slot, set up the clock (create_edge)
  void block_until(const std::function<bool()>& ready);
  void sync_registers(bool only_when_changed);  // sync_debug_registers
  void acquire(uintptr_t object);

  // One debug register: the block and type it was armed for, and the generation.
  struct Register {
    uint64_t generation = 0;  // 0: not armed
    uint64_t address = 0;
    uint32_t size = 0;
    BreakpointType type = BreakpointType::kWrite;
    uint64_t done_generation = 0;  // one-shot: trapped on already
  };

  Scheduler* sched_;
  ThreadId id_;
  std::string name_;
  Script script_;
  boost::context::fiber fiber_;   // this thread's context (held by the scheduler)
  boost::context::fiber caller_;  // the scheduler's context (held while running)
  VectorClock clock_;
  uint32_t slot_ = 0, uid_ = 0, tid_ = 0;
  bool started_ = false, finished_ = false, joined_ = false;
  bool woken_ = false;  // set by signal/broadcast while waiting on a cv
  std::vector<TouchResult> touches_;
  int touch_calls_ = 0;
  std::vector<Register> registers_;
  uint64_t board_version_seen_ = 0;
};

class Scheduler {
 public:
  static constexpr uint64_t kNow = 1'000'000;

  explicit Scheduler(int board_slots = 4, uint64_t seed = 42);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // A thread that exists from the start (the first one added is the main thread).
  ThreadId add_root(std::string name, Script script);
  // A thread that starts when another thread create()s it.
  ThreadId add_child(std::string name, Script script);

  // Runs each listed thread in turn until it yields, blocks or ends. A listed
  // thread that is blocked re-checks its condition and yields again (the entry is
  // used up). Naming a thread that is not started or already finished is an error.
  // Returns false (and records the error) on a bad schedule.
  bool run(const std::vector<ThreadId>& schedule);
  // Round-robin until every started thread has finished. Returns false on a
  // deadlock (a whole round without progress) or after max_steps.
  bool run_to_completion(int max_steps = 100000);

  SimThread& thread(ThreadId id) { return *threads_.at(static_cast<size_t>(id)); }
  const std::vector<std::string>& errors() const { return errors_; }
  // Every verdict any thread recorded, in order.
  const std::vector<TouchResult>& all_touches() const { return all_touches_; }

  ThreadRegistry& registry() { return registry_; }
  SyncClockTable& sync() { return sync_; }
  WatchBoard& board() { return board_; }

 private:
  friend class SimThread;
  bool step(ThreadId id);  // resume once; false when it cannot run
  void error(std::string msg) { errors_.push_back(std::move(msg)); }

  ThreadRegistry registry_;
  SyncClockTable sync_;
  WatchBoard board_;
  Random random_;
  std::vector<std::unique_ptr<SimThread>> threads_;
  std::map<uintptr_t, ThreadId> mutex_owner_;
  std::map<uintptr_t, std::deque<ThreadId>> cv_waiters_;
  std::vector<std::string> errors_;
  std::vector<TouchResult> all_touches_;
  uint64_t progress_ = 0;  // bumped whenever a thread does anything but re-block
};

}  // namespace racetrap::interleave
