// vector_clock.h — happens-before clocks: one epoch per thread slot.
// Contract: get() is signal-safe. Growing (set/join/assign past the current
// capacity) allocates and is not; thread clocks reserve kMaxThreadSlots up front so
// their storage never moves while a signal handler of the same thread reads them.
// The hot operations (set/tick within the size, join with a short clock) are
// inline and allocation-free; join/assign are size-bounded loops with no branch
// per element (the compiler vectorizes the max).
#pragma once

#include <cstdint>
#include <cstdlib>

namespace racetrap {

using Epoch = uint32_t;
constexpr uint32_t kMaxThreadSlots = 4096;

// dst[i] = max(dst[i], src[i]) for i < n.
inline void join_epochs(Epoch* dst, const Epoch* src, uint32_t n) {
  for (uint32_t i = 0; i < n; ++i) dst[i] = dst[i] < src[i] ? src[i] : dst[i];
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

  void reserve(uint32_t slots);
  void set(uint32_t slot, Epoch e) {
    if (slot >= size_) extend(slot + 1);
    data_[slot] = e;
  }
  void tick(uint32_t slot) { set(slot, get(slot) + 1); }
  // this = max(this, other), element-wise.
  void join(const VectorClock& other) { join(other.data_, other.size_); }
  // The same with a raw clock of n epochs.
  void join(const Epoch* other, uint32_t n) {
    if (n > size_) extend(n);
    join_epochs(data_, other, n);
  }
  // this = other (keeps this clock's capacity).
  void assign(const VectorClock& other);
  // True when every epoch of other is <= ours.
  bool covers(const VectorClock& other) const;
  void clear() { size_ = 0; }

 private:
  void grow(uint32_t slots);
  // size_ = slots (> size_), the new epochs zero.
  void extend(uint32_t slots);
  Epoch* data_ = nullptr;
  uint32_t size_ = 0;
  uint32_t capacity_ = 0;
};

}  // namespace racetrap
