// fiber_scheduler.cc — simulated threads on Boost.Context fibers, driving the
// engine's own decisions the way the preload does (see fiber_scheduler.h).
#include "fiber_scheduler.h"

#include <boost/context/protected_fixedsize_stack.hpp>

#include "happens_before_edges.h"
#include "watch_decisions.h"

#include <exception>
#include <utility>

namespace racetrap::interleave {

namespace ctx = boost::context;

namespace {
constexpr size_t kFiberStack = 256 * 1024;
}

// ---------------------------------------------------------------- SimThread

void SimThread::start(SimThread* parent) {
  ThreadSlotLease lease = sched_->registry_.lease();
  if (!lease.ok) {
    sched_->error("thread " + name_ + ": no thread slot left");
    finished_ = true;
    return;
  }
  slot_ = lease.slot;
  uid_ = lease.uid;
  tid_ = 1000 + lease.uid;
  clock_.reserve(64);
  // The child starts from the parent's clock; the parent ticks: what it does next
  // is not before the child.
  create_edge(clock_, slot_, lease.first_epoch, parent != nullptr ? &parent->clock_ : nullptr,
              parent != nullptr ? parent->slot_ : 0);
  registers_.assign(static_cast<size_t>(sched_->board_.slots()), Register{});
  started_ = true;
  fiber_ = ctx::fiber(std::allocator_arg, ctx::protected_fixedsize_stack(kFiberStack),
                      [this](ctx::fiber&& caller) {
                        caller_ = std::move(caller);
                        try {
                          script_(*this);
                        } catch (const std::exception& e) {
                          sched_->error("thread " + name_ + " threw: " + e.what());
                        }
                        finished_ = true;
                        ++sched_->progress_;
                        return std::move(caller_);
                      });
}

void SimThread::yield() {
  ++sched_->progress_;
  caller_ = std::move(caller_).resume();
}

void SimThread::block_until(const std::function<bool()>& ready) {
  while (!ready()) caller_ = std::move(caller_).resume();  // no progress: blocked
}

void SimThread::create(ThreadId child) {
  SimThread& c = sched_->thread(child);
  if (c.started_) {
    sched_->error("thread " + name_ + " creates " + c.name_ + " twice");
    return;
  }
  c.start(this);  // create_edge
  ++sched_->progress_;
}

void SimThread::join(ThreadId child) {
  SimThread& c = sched_->thread(child);
  if (!c.started_ || c.joined_) {
    sched_->error("thread " + name_ + " joins " + c.name_ + " which is not joinable");
    return;
  }
  block_until([&c] { return c.finished_; });
  join_edge(clock_, c.clock_);
  sched_->registry_.release(c.slot_, c.clock_.get(c.slot_));
  c.joined_ = true;
  sync_registers(/*only_when_changed=*/false);
  ++sched_->progress_;
}

void SimThread::lock(uintptr_t mutex) {
  auto& owners = sched_->mutex_owner_;
  auto it = owners.find(mutex);
  if (it != owners.end() && it->second == id_) {
    sched_->error("thread " + name_ + " relocks a mutex it holds");
    return;
  }
  block_until([&owners, mutex] { return owners.find(mutex) == owners.end(); });
  owners[mutex] = id_;
  acquire(mutex);
  ++sched_->progress_;
}

void SimThread::unlock(uintptr_t mutex) {
  auto& owners = sched_->mutex_owner_;
  auto it = owners.find(mutex);
  if (it == owners.end() || it->second != id_) {
    sched_->error("thread " + name_ + " unlocks a mutex it does not hold");
    return;
  }
  release_edge(sched_->sync_, mutex, clock_);
  owners.erase(it);
  ++sched_->progress_;
}

void SimThread::signal(uintptr_t cv) {
  release_edge(sched_->sync_, cv, clock_);
  auto& waiters = sched_->cv_waiters_[cv];
  if (!waiters.empty()) {
    sched_->thread(waiters.front()).woken_ = true;
    waiters.pop_front();
  }
  ++sched_->progress_;
}

void SimThread::broadcast(uintptr_t cv) {
  release_edge(sched_->sync_, cv, clock_);
  auto& waiters = sched_->cv_waiters_[cv];
  for (ThreadId w : waiters) sched_->thread(w).woken_ = true;
  waiters.clear();
  ++sched_->progress_;
}

void SimThread::wait(uintptr_t cv, uintptr_t mutex) {
  unlock(mutex);
  woken_ = false;
  sched_->cv_waiters_[cv].push_back(id_);
  block_until([this] { return woken_; });
  woken_ = false;
  acquire(cv);
  lock(mutex);
}

// The preload's acquire(): the edge, then the registers when the board changed.
void SimThread::acquire(uintptr_t object) {
  acquire_edge(sched_->sync_, object, clock_);
  sync_registers(/*only_when_changed=*/true);
}

void SimThread::sync_registers(bool only_when_changed) {
  WatchBoard& board = sched_->board_;
  const uint64_t version = board.version();
  if (only_when_changed && version == board_version_seen_) return;
  bool complete = true;
  for (int i = 0; i < board.slots(); ++i) {
    Watch w;
    const uint64_t gen = board.read(i, &w, /*with_stack=*/false);
    if (gen == WatchBoard::kBusy) {
      complete = false;
      continue;
    }
    Register& r = registers_[static_cast<size_t>(i)];
    if (should_arm(w, gen, uid_, clock_, r.done_generation)) {
      r.generation = gen;
      r.address = w.bp_address;
      r.size = w.bp_size;
      r.type = w.bp_type;
    } else {
      r.generation = 0;
    }
  }
  if (complete) board_version_seen_ = version;
}

void SimThread::tick() {
  sync_registers(/*only_when_changed=*/true);
  ++sched_->progress_;
}

int SimThread::sample(const MemoryAccess& access) {
  sync_registers(/*only_when_changed=*/true);
  Watch w;
  build_watch(access, WatchOwner{uid_, slot_, tid_, &clock_}, Scheduler::kNow, &w);
  w.stack.frame_count = 1;
  w.stack.frames[0] = access.pc;
  ++sched_->progress_;
  return sched_->board_.publish(w, Scheduler::kNow, sched_->random_);
}

std::vector<TouchResult> SimThread::touch(const MemoryAccess& access) {
  ++touch_calls_;
  sync_registers(/*only_when_changed=*/true);  // a tick right before the access
  std::vector<TouchResult> out;
  WatchBoard& board = sched_->board_;
  const uint64_t a_begin = access.address;
  const uint64_t a_end = access.address + (access.size ? access.size : 1);
  for (int i = 0; i < board.slots(); ++i) {
    Register& r = registers_[static_cast<size_t>(i)];
    if (r.generation == 0) continue;
    if (!(a_begin < r.address + r.size && r.address < a_end)) continue;  // block not hit
    if (r.type == BreakpointType::kWrite && !writes(access.kind)) continue;  // a W register ignores reads
    const uint64_t armed = r.generation;
    r.generation = 0;  // one-shot, as the trap disarms
    r.done_generation = armed;
    Watch w;
    if (board.read(i, &w, false) != armed) continue;  // stale: the board moved on
    TouchResult result;
    result.board_slot = i;
    result.generation = armed;
    result.owner_uid = w.owner_uid;
    result.verdict = judge_trap(w, &access, uid_, clock_, /*report_atomics=*/false);
    if (result.verdict == TrapVerdict::kRace) board.retire(i, armed);  // room for new samples
    out.push_back(result);
    touches_.push_back(result);
    sched_->all_touches_.push_back(result);
  }
  ++sched_->progress_;
  return out;
}

// ---------------------------------------------------------------- Scheduler

Scheduler::Scheduler(int board_slots, uint64_t seed) : random_(seed) {
  board_.configure(board_slots, ~0ull);  // nothing expires: publish lands in an empty slot
}

Scheduler::~Scheduler() {
  // Unfinished fibers are unwound here (Boost.Context forced unwinding), while the
  // tables their scripts could reference still exist.
  threads_.clear();
}

ThreadId Scheduler::add_root(std::string name, Script script) {
  ThreadId id = static_cast<ThreadId>(threads_.size());
  threads_.emplace_back(new SimThread(this, id, std::move(name), std::move(script)));
  threads_.back()->start(nullptr);
  return id;
}

ThreadId Scheduler::add_child(std::string name, Script script) {
  ThreadId id = static_cast<ThreadId>(threads_.size());
  threads_.emplace_back(new SimThread(this, id, std::move(name), std::move(script)));
  return id;
}

bool Scheduler::step(ThreadId id) {
  SimThread& t = thread(id);
  if (!t.started_ || t.finished_ || !t.fiber_) return false;
  t.fiber_ = std::move(t.fiber_).resume();
  return true;
}

bool Scheduler::run(const std::vector<ThreadId>& schedule) {
  for (size_t k = 0; k < schedule.size(); ++k) {
    ThreadId id = schedule[k];
    if (id < 0 || static_cast<size_t>(id) >= threads_.size()) {
      error("schedule[" + std::to_string(k) + "]: no thread " + std::to_string(id));
      return false;
    }
    SimThread& t = thread(id);
    if (!t.started_ || t.finished_) {
      error("schedule[" + std::to_string(k) + "]: thread " + t.name_ +
            (t.started_ ? " already finished" : " not started"));
      return false;
    }
    step(id);
  }
  return true;
}

bool Scheduler::run_to_completion(int max_steps) {
  int steps = 0;
  for (;;) {
    bool any = false;
    uint64_t before = progress_;
    for (size_t i = 0; i < threads_.size(); ++i) {
      SimThread& t = *threads_[i];
      if (!t.started_ || t.finished_) continue;
      any = true;
      step(static_cast<ThreadId>(i));
      if (++steps >= max_steps) {
        error("run_to_completion: step limit reached");
        return false;
      }
    }
    if (!any) return true;
    if (progress_ == before) {
      error("run_to_completion: deadlock (no thread can make progress)");
      return false;
    }
  }
}

}  // namespace racetrap::interleave
