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

void ObjectClock::release_from(const VectorClock& thread_clock) {
  if (same_as(thread_clock)) return;
  const uint32_t n = thread_clock.size();
  if (n > size_) extend(n);
  JoinOutcome o = join_epochs(data(), thread_clock.data(), n);
  // What the object holds beyond the thread's clock (epochs past its size).
  for (uint32_t i = n; i < size_ && !o.dst_later; ++i) o.dst_later = data()[i] != 0;
  if (!o.src_later && id_ != 0) return;  // unchanged (and it has an id)
  // Now equal to the thread's clock when the object held nothing more.
  // The generation moves once more after the new id is visible: a thread that read
  // the generation and then this clock (SyncedObjects) must not see the old
  // content under a generation that then stands still.
  set_id(!o.dst_later && thread_clock.id() != 0 ? thread_clock.id() : new_clock_id());
  note_clock_change();
}

void ObjectClock::free_storage() {
  std::free(heap_);
  heap_ = nullptr;
  capacity_ = 0;
  clear();
}

}  // namespace racetrap
