// sync_clocks.h — the happens-before clock of every synchronization object
// (mutex, condition variable, ...), keyed by its address.
// acquire: thread clock joins the object's clock; release: the object's clock
// joins the thread's. Not signal-safe (locks a stripe, may allocate); called from
// the interposers only.
#pragma once

#include <cstdint>
#include <unordered_map>

#include "spin_lock.h"
#include "vector_clock.h"

namespace racetrap {

class SyncClockTable {
 public:
  void acquire(uintptr_t object, VectorClock& thread_clock);
  void release(uintptr_t object, const VectorClock& thread_clock);
  void forget(uintptr_t object);
  // In a forked child: forgets every clock (they name threads that do not exist there).
  void reset_after_fork();

 private:
  static constexpr size_t kStripes = 64;
  struct alignas(64) Stripe {
    SpinLock lock;
    std::unordered_map<uintptr_t, VectorClock> clocks;
  };
  Stripe& stripe_of(uintptr_t object) { return stripes_[(object >> 4) * 0x9e3779b97f4a7c15ull >> 58]; }
  Stripe stripes_[kStripes];
};

}  // namespace racetrap
