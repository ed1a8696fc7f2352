// sync_clocks.cc — striped address -> clock table.
#include "sync_clocks.h"

#include <new>

namespace racetrap {

void SyncClockTable::acquire(uintptr_t object, VectorClock& thread_clock) {
  Stripe& s = stripe_of(object);
  SpinGuard guard(s.lock);
  auto it = s.clocks.find(object);
  if (it != s.clocks.end()) thread_clock.join(it->second);
}

void SyncClockTable::release(uintptr_t object, const VectorClock& thread_clock) {
  Stripe& s = stripe_of(object);
  SpinGuard guard(s.lock);
  s.clocks[object].join(thread_clock);
}

void SyncClockTable::forget(uintptr_t object) {
  Stripe& s = stripe_of(object);
  SpinGuard guard(s.lock);
  s.clocks.erase(object);
}

void SyncClockTable::reset_after_fork() {
  for (Stripe& s : stripes_) {
    s.lock.reset();
    // Another thread may have been inside the map when fork() copied it: start a
    // new one and leave the old memory alone.
    new (&s.clocks) std::unordered_map<uintptr_t, VectorClock>();
  }
}

}  // namespace racetrap
