// thread_registry.cc — slot leasing with epoch continuation.
#include "thread_registry.h"

#include <new>

namespace racetrap {

ThreadSlotLease ThreadRegistry::lease() {
  SpinGuard guard(lock_);
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else if (next_epoch_.size() < kMaxThreadSlots) {
    slot = static_cast<uint32_t>(next_epoch_.size());
    next_epoch_.push_back(1);
    in_use_.push_back(false);
  } else {
    return {0, 0, 0, false};
  }
  in_use_[slot] = true;
  ++live_;
  return {slot, next_uid_++, next_epoch_[slot], true};
}

void ThreadRegistry::release(uint32_t slot, Epoch last_epoch) {
  SpinGuard guard(lock_);
  if (slot >= next_epoch_.size() || !in_use_[slot]) return;  // a double release is ignored
  if (last_epoch + 1 > next_epoch_[slot]) next_epoch_[slot] = last_epoch + 1;
  in_use_[slot] = false;
  free_slots_.push_back(slot);
  --live_;
}

void ThreadRegistry::reset_after_fork(uint32_t surviving_slot, Epoch surviving_epoch) {
  lock_.reset();
  // Only the forking thread lives on in the child, and the caller has cleared every
  // clock that could mention the others (the survivor's own and all sync objects'),
  // so their slots start afresh. Another thread may have been inside lease() or
  // release() when fork() copied the vectors (half-way through a reallocation):
  // build new ones and leave the old memory alone.
  new (&next_epoch_) std::vector<Epoch>();
  new (&in_use_) std::vector<bool>();
  new (&free_slots_) std::vector<uint32_t>();
  if (surviving_slot < kMaxThreadSlots) {
    next_epoch_.assign(surviving_slot + 1, 1);
    in_use_.assign(surviving_slot + 1, false);
    for (uint32_t s = surviving_slot; s-- > 0;) free_slots_.push_back(s);
    in_use_[surviving_slot] = true;
    next_epoch_[surviving_slot] = surviving_epoch;
  }
  live_ = 1;
}

}  // namespace racetrap
