// fiber_scheduler.cc — simulated threads on Boost.Context fibers, modelling the
// preload's happens-before bookkeeping exactly (see fiber_scheduler.h).
#include "fiber_scheduler.h"

#include <boost/context/protected_fixedsize_stack.hpp>

#include <exception>
#include <utility>

namespace racetrap::interleave {

namespace ctx = boost::context;

namespace {
constexpr size_t kFiberStack = 256 * 1024;
}

// ---------------------------------------------------------------- SimThread

void SimThread::start(const SimThread* parent) {
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
  if (parent != nullptr) clock_.assign(parent->clock_);
  clock_.set(slot_, lease.first_epoch);
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
  c.start(this);  // child.clock = parent.clock; child.clock[child.slot] = first_epoch
  clock_.tick(slot_);
  ++sched_->progress_;
}

void SimThread::join(ThreadId child) {
  SimThread& c = sched_->thread(child);
  if (!c.started_ || c.joined_) {
    sched_->error("thread " + name_ + " joins " + c.name_ + " which is not joinable");
    return;
  }
  block_until([&c] { return c.finished_; });
  clock_.join(c.clock_);
  sched_->registry_.release(c.slot_, c.clock_.get(c.slot_));
  c.joined_ = true;
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
  sched_->sync_.acquire(mutex, clock_, uid_ + 1);
  ++sched_->progress_;
}

void SimThread::unlock(uintptr_t mutex) {
  auto& owners = sched_->mutex_owner_;
  auto it = owners.find(mutex);
  if (it == owners.end() || it->second != id_) {
    sched_->error("thread " + name_ + " unlocks a mutex it does not hold");
    return;
  }
  sched_->sync_.release(mutex, clock_, uid_ + 1);
  clock_.tick(slot_);
  owners.erase(it);
  ++sched_->progress_;
}

void SimThread::signal(uintptr_t cv) {
  sched_->sync_.release(cv, clock_, uid_ + 1);
  clock_.tick(slot_);
  auto& waiters = sched_->cv_waiters_[cv];
  if (!waiters.empty()) {
    sched_->thread(waiters.front()).woken_ = true;
    waiters.pop_front();
  }
  ++sched_->progress_;
}

void SimThread::broadcast(uintptr_t cv) {
  sched_->sync_.release(cv, clock_, uid_ + 1);
  clock_.tick(slot_);
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
  sched_->sync_.acquire(cv, clock_, uid_ + 1);
  lock(mutex);
}

int SimThread::sample(const MemoryAccess& access) {
  Watch w;
  w.access = access;
  breakpoint_range_for(access, &w.bp_address, &w.bp_size);
  w.bp_type = writes(access.kind) ? BreakpointType::kReadWrite : BreakpointType::kWrite;
  w.owner_uid = uid_;
  w.owner_slot = slot_;
  w.owner_tid = tid_;
  w.owner_epoch = clock_.get(slot_);
  w.published_ns = Scheduler::kNow;
  w.stack.frame_count = 1;
  w.stack.frames[0] = access.pc;
  ++sched_->progress_;
  return sched_->board_.publish(w, Scheduler::kNow, sched_->random_);
}

std::vector<TouchResult> SimThread::touch(const MemoryAccess& access) {
  std::vector<TouchResult> out;
  WatchBoard& board = sched_->board_;
  const uint64_t a_begin = access.address;
  const uint64_t a_end = access.address + (access.size ? access.size : 1);
  for (int i = 0; i < board.slots(); ++i) {
    Watch w;
    uint64_t gen = board.read(i, &w, false);
    if (gen == 0 || gen == WatchBoard::kBusy) continue;
    if (!(a_begin < w.bp_address + w.bp_size && w.bp_address < a_end)) continue;  // register not hit
    if (w.owner_uid == uid_) continue;  // a thread never arms its own watches
    TouchResult r;
    r.board_slot = i;
    r.generation = gen;
    r.owner_uid = w.owner_uid;
    r.verdict = judge_trap(w, &access, uid_, clock_, /*report_atomics=*/false);
    r.hardware_would_fire = w.bp_type == BreakpointType::kReadWrite || writes(access.kind);
    out.push_back(r);
    touches_.push_back(r);
    sched_->all_touches_.push_back(r);
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
