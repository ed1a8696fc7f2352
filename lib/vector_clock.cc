// vector_clock.cc — element-wise clock algebra.
#include "vector_clock.h"

#include <algorithm>
#include <cstring>
#include <new>

namespace racetrap {

VectorClock::~VectorClock() { std::free(data_); }

VectorClock::VectorClock(const VectorClock& other) { assign(other); }

VectorClock& VectorClock::operator=(const VectorClock& other) {
  if (this != &other) assign(other);
  return *this;
}

void VectorClock::grow(uint32_t slots) {
  if (slots <= capacity_) return;
  uint32_t cap = std::max<uint32_t>(slots, std::max<uint32_t>(8, capacity_ * 2));
  auto* fresh = static_cast<Epoch*>(std::calloc(cap, sizeof(Epoch)));
  if (fresh == nullptr) throw std::bad_alloc();
  if (data_ != nullptr) std::memcpy(fresh, data_, size_ * sizeof(Epoch));
  std::free(data_);
  data_ = fresh;
  capacity_ = cap;
}

void VectorClock::reserve(uint32_t slots) { grow(slots); }

void VectorClock::set(uint32_t slot, Epoch e) {
  if (slot >= size_) {
    grow(slot + 1);
    std::memset(data_ + size_, 0, (slot + 1 - size_) * sizeof(Epoch));
    size_ = slot + 1;
  }
  data_[slot] = e;
}

void VectorClock::join(const VectorClock& other) {
  if (other.size_ > size_) {
    grow(other.size_);
    std::memset(data_ + size_, 0, (other.size_ - size_) * sizeof(Epoch));
    size_ = other.size_;
  }
  for (uint32_t i = 0; i < other.size_; ++i) data_[i] = std::max(data_[i], other.data_[i]);
}

void VectorClock::assign(const VectorClock& other) {
  grow(other.size_);
  if (other.size_ != 0) std::memcpy(data_, other.data_, other.size_ * sizeof(Epoch));
  size_ = other.size_;
}

bool VectorClock::covers(const VectorClock& other) const {
  for (uint32_t i = 0; i < other.size_; ++i)
    if (other.data_[i] > get(i)) return false;
  return true;
}

}  // namespace racetrap
