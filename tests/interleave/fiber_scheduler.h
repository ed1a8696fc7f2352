// fiber_scheduler.h — deterministic interleavings of the happens-before engine.
//
// N simulated threads, each a Boost.Context fiber running a script the test writes.
// Nothing runs concurrently: a thread runs until it calls yield() (or blocks on a
// simulated mutex / condition variable, or ends), then control returns to the
// scheduler, which resumes the next thread named by the test's schedule. So an
// interleaving is exact and independent of timing.
//
// Each simulated thread gets what the preload gives a real one: a slot and uid from
// ThreadRegistry and a VectorClock, and its operations update them exactly the way
// the preload's interposers do:
//   create(child)  child.clock = clock; child.clock[child.slot] = child.first_epoch;
//                  then tick(own slot)
//   join(child)    (waits until it ends) clock.join(child.clock); the registry
//                  releases the child's slot with its last epoch
//   lock(m)        waits while another thread holds m; sync.acquire(m, clock)
//   unlock(m)      sync.release(m, clock); tick(own slot)
//   signal/broadcast(cv)  sync.release(cv, clock); tick(own slot); wake one / all
//   wait(cv, m)    unlock(m); block until signalled; sync.acquire(cv, clock); lock(m)
//   (every sync call names the thread as the preload does, uid + 1, so the sync
//   table's sole-releaser shortcut runs under every explored interleaving)
//   sample(access) publish a Watch at owner_epoch = clock[own slot]
//   touch(access)  judge_trap against every board watch of another thread whose
//                  debug-register block the access overlaps
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
  bool hardware_would_fire;  // RW register, or W register and the access writes
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

  void create(ThreadId child);
  void join(ThreadId child);
  void lock(uintptr_t mutex);
  void unlock(uintptr_t mutex);
  void signal(uintptr_t cv);
  void broadcast(uintptr_t cv);
  void wait(uintptr_t cv, uintptr_t mutex);

  // Publishes a watch for `access`; returns the board slot (-1 when not published).
  int sample(const MemoryAccess& access);
  // Judges the access against the board; every verdict is also appended to touches().
  std::vector<TouchResult> touch(const MemoryAccess& access);
  const std::vector<TouchResult>& touches() const { return touches_; }

 private:
  friend class Scheduler;
  SimThread(Scheduler* sched, ThreadId id, std::string name, Script script)
      : sched_(sched), id_(id), name_(std::move(name)), script_(std::move(script)) {}
  void start(const SimThread* parent);  // lease a slot, set up the clock
  void block_until(const std::function<bool()>& ready);

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
