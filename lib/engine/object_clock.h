// object_clock.h — the happens-before clock of one synchronization object, and
// the shortcut that makes repeated synchronization by one thread cheap.
//
// Contract: the caller serializes every call on one ObjectClock (the table's
// per-entry lock). All-zero bytes are a valid empty clock (entries live in
// zero-filled mmap memory). Not signal-safe: growing past kInline epochs allocates.
//
// The shortcut (`sole_`): a releasing thread that names itself (`who` != 0, a
// number unique to that thread for the table's lifetime) is recorded as the sole
// releaser when, after its release, this clock equals its own clock, i.e. the clock
// held nothing the thread did not already know. Thread clocks only ever grow, so
// while no one else releases here:
//   - an acquire by that thread joins nothing new: it is skipped;
//   - its next release joins into a clock it covers: max(this, c) == c, a copy.
// Any other release (another thread, or an anonymous one) recomputes the marker.
// Both shortcuts give exactly the clock the full join would: no edge is lost or added.
#pragma once

#include <cstdint>

#include "vector_clock.h"

namespace racetrap {

class ObjectClock {
 public:
  static constexpr uint32_t kInline = 8;   // epochs kept in place (thread slots 0..7)
  static constexpr uint32_t kNobody = 0;   // anonymous caller: no shortcut

  // thread_clock = max(thread_clock, this). `who`: the caller's id, or kNobody.
  void acquire_into(VectorClock& thread_clock, uint32_t who) const {
    if (size_ == 0 || covered_for(who)) return;
    thread_clock.join(data(), size_);
  }
  // True when `who` (not kNobody) is the sole releaser: its acquire joins nothing.
  // May be called without the caller's lock (one atomic word, written only under
  // it): a stale true means a release by another thread is still in progress, and
  // the acquire is then ordered before that release, as if it had come first.
  bool covered_for(uint32_t who) const { return who != kNobody && who == sole_releaser(); }
  // this = max(this, thread_clock). Inline: the sole releaser's copy into the
  // in-place epochs (the common case of a lock taken again by the same thread).
  void release_from(const VectorClock& thread_clock, uint32_t who) {
    const uint32_t n = thread_clock.size();
    if (who == kNobody || who != sole_ || heap_ != nullptr || n > kInline) return release_joining(thread_clock, who);
    const Epoch* c = thread_clock.data();
    for (uint32_t i = 0; i < n; ++i) inline_[i] = c[i];
    for (uint32_t i = n; i < size_; ++i) inline_[i] = 0;  // were <= the caller's zeros
    if (n > size_) size_ = static_cast<uint16_t>(n);
  }
  // Forgets every epoch (the object was destroyed); keeps the storage.
  void clear() {
    size_ = 0;
    set_sole(kNobody);
  }
  // Frees heap storage (the owning table is going away).
  void free_storage();

  uint32_t size() const { return size_; }
  Epoch get(uint32_t slot) const { return slot < size_ ? data()[slot] : 0; }
  uint32_t sole_releaser() const { return __atomic_load_n(&sole_, __ATOMIC_RELAXED); }
  bool on_heap() const { return heap_ != nullptr; }

 private:
  const Epoch* data() const { return heap_ != nullptr ? heap_ : inline_; }
  Epoch* data() { return heap_ != nullptr ? heap_ : inline_; }
  // release_from's general case (and the copy on the heap).
  void release_joining(const VectorClock& thread_clock, uint32_t who);
  void set_sole(uint32_t who) { __atomic_store_n(&sole_, who, __ATOMIC_RELAXED); }
  // Capacity for `slots` epochs; the epochs from size_ on are zero up to `slots`.
  void extend(uint32_t slots);

  uint16_t size_ = 0;      // epochs in use (<= kMaxThreadSlots)
  uint16_t capacity_ = 0;  // of heap_, when set
  uint32_t sole_ = kNobody;
  Epoch* heap_ = nullptr;  // past kInline slots
  Epoch inline_[kInline] = {};
};
static_assert(sizeof(ObjectClock) == 48, "an ObjectClock and its table key + lock fill one cache line");

}  // namespace racetrap
