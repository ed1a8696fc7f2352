// vector_clock.h — happens-before clocks: one epoch per thread slot.
// Contract: get() is signal-safe. Growing (set/join/assign past the current
// capacity) allocates and is not; thread clocks reserve kMaxThreadSlots up front so
// their storage never moves while a signal handler of the same thread reads them.
#pragma once

#include <cstdint>
#include <cstdlib>

namespace racetrap {

using Epoch = uint32_t;
constexpr uint32_t kMaxThreadSlots = 4096;

class VectorClock {
 public:
  VectorClock() = default;
  ~VectorClock();
  VectorClock(const VectorClock& other);
  VectorClock& operator=(const VectorClock& other);

  // signal-safe. The epoch of `slot` (0 when never set).
  Epoch get(uint32_t slot) const { return slot < size_ ? data_[slot] : 0; }
  uint32_t size() const { return size_; }

  void reserve(uint32_t slots);
  void set(uint32_t slot, Epoch e);
  void tick(uint32_t slot) { set(slot, get(slot) + 1); }
  // this = max(this, other), element-wise.
  void join(const VectorClock& other);
  // this = other (keeps this clock's capacity).
  void assign(const VectorClock& other);
  // True when every epoch of other is <= ours.
  bool covers(const VectorClock& other) const;
  void clear() { size_ = 0; }

 private:
  void grow(uint32_t slots);
  Epoch* data_ = nullptr;
  uint32_t size_ = 0;
  uint32_t capacity_ = 0;
};

}  // namespace racetrap
