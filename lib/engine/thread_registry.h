// thread_registry.h — thread slots (indexes into vector clocks) and thread uids.
// A slot is reused after its thread is gone; the reuser continues the slot's epoch
// count, so no clock that saw the old thread can mistake the new one for it.
// uids (T0, T1, ...) are never reused: they name threads in reports.
// Not signal-safe (takes a lock); called at thread start, join and detach.
#pragma once

#include <cstdint>
#include <vector>

#include "spin_lock.h"
#include "vector_clock.h"

namespace racetrap {

struct ThreadSlotLease {
  uint32_t slot;
  uint32_t uid;
  Epoch first_epoch;  // the epoch the new thread starts its own slot at
  bool ok;            // false when all kMaxThreadSlots are taken
};

class ThreadRegistry {
 public:
  ThreadSlotLease lease();
  // The thread in `slot` is gone for good; its last epoch was `last_epoch`.
  void release(uint32_t slot, Epoch last_epoch);
  uint32_t live_slots() const { return live_; }
  // In a forked child. The caller must also reset every clock that could hold
  // other slots' epochs (the survivor's clock to its own entry, all sync objects).
  void reset_after_fork(uint32_t surviving_slot, Epoch surviving_epoch);

 private:
  SpinLock lock_;
  std::vector<Epoch> next_epoch_;   // per slot ever used
  std::vector<bool> in_use_;
  std::vector<uint32_t> free_slots_;
  uint32_t next_uid_ = 0;
  uint32_t live_ = 0;
};

}  // namespace racetrap
