// held_locks.h — the locks one thread holds right now (mutexes, rwlocks, spin
// locks and annotated locks), for
// the lock-order graph and the pthread-misuse checks (preload/interposers/lock_tracking.cc).
// A fixed array, no allocation: only its own thread reads or writes it, from
// ordinary context. Locks held beyond the capacity are counted, not kept, so a
// thread holding very many locks loses edges and misuse checks instead of memory.
#pragma once

#include <cstdint>

namespace racetrap {

// kSpin: a pthread spin lock (recorded in race reports as a mutex).
enum class HeldMode : uint8_t { kMutex = 0, kRead = 1, kWrite = 2, kSpin = 3 };

struct HeldLock {
  uint64_t address = 0;  // the lock object
  uint64_t pc = 0;       // call site of the (first, for recursion) acquisition
  uint32_t node = 0;     // lock-order graph node id, 0 while not resolved
  uint16_t depth = 0;    // > 1: taken again (recursive mutex, repeated read lock)
  HeldMode mode = HeldMode::kMutex;
  uint8_t spare = 0;  // named, so that node, depth, mode and this byte are written as one word
};

constexpr int kMaxHeldLocks = 32;

class HeldLocks {
 public:
  int count() const { return count_; }
  // Locks taken while the array was full (not tracked); while > 0, a lock that is
  // not found may still be held.
  int untracked() const { return untracked_; }
  HeldLock& operator[](int i) { return items_[i]; }
  const HeldLock& operator[](int i) const { return items_[i]; }

  // The newest entry for `address`, or nullptr.
  HeldLock* find(uint64_t address) {
    for (int i = count_ - 1; i >= 0; --i)
      if (items_[i].address == address) return &items_[i];
    return nullptr;
  }

  // The thread now holds `address` (once more, when it held it already).
  void push(uint64_t address, uint64_t pc, uint32_t node, HeldMode mode) {
    only_ = kNoLock;
    if (HeldLock* h = find(address)) {
      if (h->depth < UINT16_MAX) ++h->depth;
      return;
    }
    if (count_ == kMaxHeldLocks) {
      ++untracked_;
      return;
    }
    items_[count_++] = HeldLock{address, pc, node, 1, mode};
  }

  // The thread, holding nothing (count() == 0), now holds `address` (the lock
  // fast path: push() without the search); `only_clock` is set_only_clock's id
  // (kNoClock: none recorded).
  void push_into_empty(uint64_t address, uint64_t pc, HeldMode mode, uint64_t only_clock = kNoClock) {
    items_[0] = HeldLock{address, pc, 0, 1, mode, 0};
    count_ = 1;
    only_ = untracked_ == 0 ? address : kNoLock;
    only_clock_ = only_clock;
  }

  // True when `address`, taken once, is all the thread holds (no untracked lock
  // either), so that its release empties the array (the unlock fast path): one
  // comparison, with what push_into_empty recorded and every other change cleared.
  // (kNoLock, never a lock's address, stands for none.)
  bool holds_only(uint64_t address) const { return only_ == address; }
  // With holds_only: the content id of the thread's clock when the lock's clock held
  // the same epochs right after the acquisition, else kNoClock. While the thread holds the
  // lock only it releases into that clock, which never loses an epoch (short of the
  // program destroying a held lock), so a thread whose clock still has this id at
  // the unlock has nothing to release into it (the unlock fast path).
  void set_only_clock(uint64_t id) { only_clock_ = id != 0 ? id : kNoClock; }
  // Whether the thread's clock, whose content id is now `id`, is still the one
  // set_only_clock recorded (never for a clock without an id, 0: none is recorded
  // as kNoClock, which no content id reaches).
  bool only_clock_unchanged(uint64_t id) const { return only_clock_ == id; }
  static constexpr uint64_t kNoClock = ~uint64_t{0};
  // The thread released the one lock it held (holds_only was true), or the call
  // that push_into_empty was written for failed.
  void release_only() {
    count_ = 0;
    only_ = kNoLock;
    only_clock_ = kNoClock;
  }

  // The thread released `address` once. False when it was not held as far as
  // this array knows (an untracked lock may be what was released then).
  bool pop(uint64_t address) {
    only_ = kNoLock;
    for (int i = count_ - 1; i >= 0; --i) {
      if (items_[i].address != address) continue;
      if (--items_[i].depth == 0) remove_at(i);
      return true;
    }
    if (untracked_ > 0) --untracked_;
    return false;
  }

  // Drops every hold of `address` (the lock was destroyed).
  void forget(uint64_t address) {
    only_ = kNoLock;
    for (int i = count_ - 1; i >= 0; --i)
      if (items_[i].address == address) remove_at(i);
  }

  void clear() {
    only_ = kNoLock;
    count_ = 0;
    untracked_ = 0;
  }

 private:
  void remove_at(int i) {
    for (int j = i + 1; j < count_; ++j) items_[j - 1] = items_[j];
    --count_;
  }

  // The words the mutex fast paths read and write come first, next to the first
  // entry (the only one they use): one cache line of the thread's own.
  int count_ = 0;
  int untracked_ = 0;
  // push_into_empty's lock while nothing else changed the array since (holds_only),
  // else kNoLock: an address no pthread object can have (the unlock fast path then
  // needs no test for a null argument).
  static constexpr uint64_t kNoLock = ~uint64_t{0};
  uint64_t only_ = kNoLock;
  uint64_t only_clock_ = kNoClock;  // see set_only_clock; set again by each push_into_empty
  HeldLock items_[kMaxHeldLocks];
};

}  // namespace racetrap
