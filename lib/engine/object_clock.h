// object_clock.h — the happens-before clock of one synchronization object, and
// the shortcut that makes a lock hand-off cheap.
//
// Contract: the caller serializes acquire_into, release_from, clear and
// free_storage on one ObjectClock (the table's per-entry lock); same_as may run
// at any time without it. All-zero bytes are a valid empty clock (entries live in
// zero-filled mmap memory). Not signal-safe: growing past kInline epochs allocates.
//
// The shortcut: the clock carries a content id (vector_clock.h), written last
// under the lock. A thread whose clock has the same id holds the same epochs, so
// its acquire joins nothing and its release adds nothing: both return after one
// read of a cache line nobody writes. Thread clocks change only when their thread
// is sampled (happens_before_edges.h) or learns something new, so in a program
// whose threads hand locks back and forth, every clock soon has the same content
// and keeps it until the next sample: the object's line stays shared between the
// cores instead of moving with every critical section. The ids give exactly the
// clocks the full joins would: no edge is lost or added.
#pragma once

#include <cstdint>

#include "vector_clock.h"

namespace racetrap {

class ObjectClock {
 public:
  static constexpr uint32_t kInline = 7;  // epochs kept in place (thread slots 0..6)

  // True when `thread_clock` holds exactly this clock's epochs (same content id):
  // acquire_into and release_from would change nothing. Without the caller's lock:
  // a stale id means a release by another thread is still in progress, and the
  // acquire is then ordered before that release, as if it had come first.
  bool same_as(const VectorClock& thread_clock) const {
    const uint64_t mine = __atomic_load_n(&id_, __ATOMIC_ACQUIRE);
    return mine != 0 && mine == thread_clock.id();
  }
  // thread_clock = max(thread_clock, this).
  void acquire_into(VectorClock& thread_clock) const {
    if (size_ == 0 || same_as(thread_clock)) return;
    thread_clock.join(data(), size_, id_);
  }
  // this = max(this, thread_clock).
  void release_from(const VectorClock& thread_clock);
  // Forgets every epoch (the object was destroyed); keeps the storage.
  void clear() {
    const bool had = size_ != 0 || id() != 0;
    size_ = 0;
    set_id(0);
    if (had) note_clock_change();
  }
  // Frees heap storage (the owning table is going away).
  void free_storage();

  uint32_t size() const { return size_; }
  Epoch get(uint32_t slot) const { return slot < size_ ? data()[slot] : 0; }
  uint64_t id() const { return __atomic_load_n(&id_, __ATOMIC_RELAXED); }
  // The content id read with acquire ordering, without the caller's lock: any
  // change of the epochs comes with a new id (0 while empty).
  uint64_t version() const { return __atomic_load_n(&id_, __ATOMIC_ACQUIRE); }
  bool on_heap() const { return heap_ != nullptr; }

 private:
  const Epoch* data() const { return heap_ != nullptr ? heap_ : inline_; }
  Epoch* data() { return heap_ != nullptr ? heap_ : inline_; }
  void set_id(uint64_t id) { __atomic_store_n(&id_, id, __ATOMIC_RELEASE); }
  // Capacity for `slots` epochs; the epochs from size_ on are zero up to `slots`.
  void extend(uint32_t slots);

  uint64_t id_ = 0;        // content id (vector_clock.h); 0 while empty
  Epoch* heap_ = nullptr;  // past kInline slots
  uint16_t size_ = 0;      // epochs in use (<= kMaxThreadSlots)
  uint16_t capacity_ = 0;  // of heap_, when set
  Epoch inline_[kInline] = {};
};
static_assert(sizeof(ObjectClock) == 48, "an ObjectClock and its table key + lock fill one cache line");

}  // namespace racetrap
