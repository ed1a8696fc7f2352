// object_clock.cc — see object_clock.h.
#include "object_clock.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

namespace racetrap {

void ObjectClock::extend(uint32_t slots) {
  if (slots > kInline && slots > (heap_ != nullptr ? capacity_ : 0u)) {
    uint32_t cap = std::max<uint32_t>(slots, heap_ != nullptr ? 2u * capacity_ : 2u * kInline);
    cap = std::min<uint32_t>(std::max<uint32_t>(cap, slots), kMaxThreadSlots);
    auto* fresh = static_cast<Epoch*>(std::calloc(cap, sizeof(Epoch)));
    if (fresh == nullptr) throw std::bad_alloc();
    std::memcpy(fresh, data(), size_ * sizeof(Epoch));
    std::free(heap_);
    heap_ = fresh;
    capacity_ = static_cast<uint16_t>(cap);
  }
  Epoch* d = data();
  std::memset(d + size_, 0, (slots - size_) * sizeof(Epoch));
  size_ = static_cast<uint16_t>(slots);
}

void ObjectClock::release_joining(const VectorClock& thread_clock, uint32_t who) {
  const uint32_t n = thread_clock.size();
  const Epoch* c = thread_clock.data();
  if (who != kNobody && who == sole_) {  // (only writers of sole_ get here: a plain read)
    // This clock is covered by an earlier clock of the caller, so by its current
    // one: the join is a copy.
    if (n > size_) extend(n);
    Epoch* d = data();
    for (uint32_t i = 0; i < n; ++i) d[i] = c[i];
    for (uint32_t i = n; i < size_; ++i) d[i] = 0;  // were <= the caller's zeros
    return;
  }
  if (n > size_) extend(n);
  Epoch* d = data();
  bool later = false;  // an epoch here that the caller does not know
  for (uint32_t i = 0; i < n; ++i) {
    later |= d[i] > c[i];
    d[i] = d[i] < c[i] ? c[i] : d[i];
  }
  for (uint32_t i = n; i < size_; ++i) later |= d[i] != 0;
  const uint32_t sole = who != kNobody && !later ? who : kNobody;
  if (sole != sole_) set_sole(sole);
}

void ObjectClock::free_storage() {
  std::free(heap_);
  heap_ = nullptr;
  capacity_ = 0;
  clear();
}

}  // namespace racetrap
