// vector_clock.cc — element-wise clock algebra.
#include "vector_clock.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <new>

namespace racetrap {

constinit ClockGeneration g_clock_generation;

VectorClock::~VectorClock() { std::free(data_); }

VectorClock::VectorClock(const VectorClock& other) { assign(other); }

VectorClock& VectorClock::operator=(const VectorClock& other) {
  if (this != &other) assign(other);
  return *this;
}

void VectorClock::grow(uint32_t slots) {
  if (slots <= capacity_) return;
  uint32_t cap = std::max<uint32_t>(slots, std::max<uint32_t>(8, capacity_ * 2));
  // Not calloc: epochs past size_ are never read (extend() zeroes them when they
  // come into use), and a thread's clock is reserved for kMaxThreadSlots (16 KiB)
  // of which a program with a few threads touches one page.
  auto* fresh = static_cast<Epoch*>(std::malloc(cap * sizeof(Epoch)));
  if (fresh == nullptr) throw std::bad_alloc();
  if (data_ != nullptr) std::memcpy(fresh, data_, size_ * sizeof(Epoch));
  std::free(data_);
  data_ = fresh;
  capacity_ = cap;
}

void VectorClock::reserve(uint32_t slots) { grow(slots); }

void VectorClock::extend(uint32_t slots) {
  grow(slots);
  std::memset(data_ + size_, 0, (slots - size_) * sizeof(Epoch));
  size_ = slots;
}

void VectorClock::assign(const VectorClock& other) {
  grow(other.size_);
  if (other.size_ != 0) std::memcpy(data_, other.data_, other.size_ * sizeof(Epoch));
  size_ = other.size_;
  if (id_ != other.id_) note_clock_change();
  id_ = other.id_;
}

bool VectorClock::covers(const VectorClock& other) const {
  const uint32_t common = std::min(size_, other.size_);
  bool later = false;  // some epoch of other is later than ours
  for (uint32_t i = 0; i < common; ++i) later |= other.data_[i] > data_[i];
  for (uint32_t i = common; i < other.size_; ++i) later |= other.data_[i] != 0;
  return !later;
}

}  // namespace racetrap
