// vector_clock.h — happens-before clocks: one epoch per thread slot.
// Contract: get() is signal-safe. Growing (set/join/assign past the current
// capacity) allocates and is not; thread clocks reserve kMaxThreadSlots up front so
// their storage never moves while a signal handler of the same thread reads them.
// The hot operations (set/tick within the size, join with a short clock) are
// inline and allocation-free; join/assign are size-bounded loops with no branch
// per element (the compiler vectorizes the max).
//
// Content ids (the lock path's fast test, object_clock.h): a clock carries an id,
// and two clocks with the same non-zero id hold the same epochs (a missing epoch
// reads as 0, so clocks differing only in trailing zeros are the same content). An
// operation that changes the epochs takes a new id (or the id of the clock whose
// content it now equals); one that changes nothing keeps it. 0: no id (equal to
// nothing). Epochs only grow, so once threads have exchanged what they know, a
// lock hand-off compares two ids instead of two clocks.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>

namespace racetrap {

using Epoch = uint32_t;
constexpr uint32_t kMaxThreadSlots = 4096;

// The clock generation: one counter per process that moves whenever any clock
// (a thread's or a synchronization object's) changes content, and never goes
// back. Content ids are drawn from it, and a change that takes an id that exists
// already (a join that makes one clock equal to another, an assignment, a clear)
// moves it too (note_clock_change), and a synchronization object's clock, which
// other threads read, moves it again once its new id is visible (a reader that
// read the generation before the old id still sees it move). So while it reads the same, no clock's
// content has changed: a thread that saw an object's clock hold its own content
// at generation g knows both still do while the generation is g (SyncedObjects).
// Alone on its cache line: it is read on every lock and written only when clocks
// change (at samples, and as their epochs spread).
struct alignas(64) ClockGeneration {
  std::atomic<uint64_t> value{1};
};
extern ClockGeneration g_clock_generation __attribute__((visibility("hidden")));
static_assert(std::atomic<uint64_t>::is_always_lock_free, "new_clock_id is signal-safe");

// signal-safe. A content id never returned before; moves the generation.
inline uint64_t new_clock_id() { return g_clock_generation.value.fetch_add(1, std::memory_order_acq_rel); }
// signal-safe. A clock changed content without a new id: moves the generation.
inline void note_clock_change() { g_clock_generation.value.fetch_add(1, std::memory_order_acq_rel); }
// signal-safe. The generation now (acquire: a reader that sees a value sees the
// clock changes made before it moved there).
inline uint64_t clock_generation() { return g_clock_generation.value.load(std::memory_order_acquire); }

// What a join found: which side held an epoch the other did not.
struct JoinOutcome {
  bool dst_later = false;  // dst had an epoch greater than src's (dst was not <= src)
  bool src_later = false;  // src had an epoch greater than dst's: dst changed
};

// dst[i] = max(dst[i], src[i]) for i < n; says which side was later where.
inline JoinOutcome join_epochs(Epoch* dst, const Epoch* src, uint32_t n) {
  bool dst_later = false, src_later = false;
  for (uint32_t i = 0; i < n; ++i) {
    dst_later |= dst[i] > src[i];
    src_later |= src[i] > dst[i];
    dst[i] = dst[i] < src[i] ? src[i] : dst[i];
  }
  return {dst_later, src_later};
}

class VectorClock {
 public:
  VectorClock() = default;
  ~VectorClock();
  VectorClock(const VectorClock& other);
  VectorClock& operator=(const VectorClock& other);

  // signal-safe. The epoch of `slot` (0 when never set).
  Epoch get(uint32_t slot) const { return slot < size_ ? data_[slot] : 0; }
  uint32_t size() const { return size_; }
  // The first size() epochs (nullptr while the clock has no storage).
  const Epoch* data() const { return data_; }

  // signal-safe. The content id (see above; 0: none).
  uint64_t id() const { return id_; }
  // A new id when the clock has none (a clock that is then shared gets one).
  void ensure_id() {
    if (id_ == 0) id_ = new_clock_id();
  }

  void reserve(uint32_t slots);
  void set(uint32_t slot, Epoch e) {
    if (slot >= size_) extend(slot + 1);
    if (data_[slot] == e) return;
    data_[slot] = e;
    id_ = new_clock_id();
  }
  void tick(uint32_t slot) { set(slot, get(slot) + 1); }
  // this = max(this, other), element-wise.
  void join(const VectorClock& other) {
    if (other.id_ != 0 && other.id_ == id_) return;
    join(other.data_, other.size_, other.id_);
  }
  // The same with a raw clock of n epochs whose content id is `other_id` (0: none):
  // the result keeps this clock's id when it did not change, takes `other_id` when
  // it now equals the other clock, else a new one.
  void join(const Epoch* other, uint32_t n, uint64_t other_id = 0) {
    if (n > size_) extend(n);
    JoinOutcome o = join_epochs(data_, other, n);
    if (!o.src_later) return;
    for (uint32_t i = n; i < size_ && !o.dst_later; ++i) o.dst_later = data_[i] != 0;
    if (!o.dst_later && other_id != 0) {
      id_ = other_id;
      note_clock_change();
    } else {
      id_ = new_clock_id();
    }
  }
  // this = other (keeps this clock's capacity; takes its id).
  void assign(const VectorClock& other);
  // True when every epoch of other is <= ours.
  bool covers(const VectorClock& other) const;
  void clear() {
    if (size_ != 0 || id_ != 0) note_clock_change();
    size_ = 0;
    id_ = 0;
  }
  // Gives this clock's storage to `into`, which has none, and leaves both as a new
  // clock is (no epochs, no id): a clock that goes away and one that is new change
  // no clock's content, so no change is noted. For a thread's state kept for the
  // next thread (preload/lifecycle/thread_state_pool.h), whose clock keeps its
  // reserved epochs.
  void move_storage_to(VectorClock& into) {
    into.data_ = data_;
    into.capacity_ = capacity_;
    into.size_ = 0;
    into.id_ = 0;
    data_ = nullptr;
    capacity_ = size_ = 0;
    id_ = 0;
  }

 private:
  void grow(uint32_t slots);
  // size_ = slots (> size_), the new epochs zero.
  void extend(uint32_t slots);
  Epoch* data_ = nullptr;
  uint32_t size_ = 0;
  uint32_t capacity_ = 0;
  uint64_t id_ = 0;
};

}  // namespace racetrap
