// spin_lock.h — a tiny test-and-test-and-set lock for the runtime's own tables.
// Used only outside signal handlers (the handlers never take a lock), so a holder
// can always make progress. Not recursive.
#pragma once

#include <atomic>

#include "vdso_clock.h"

namespace racetrap {

class SpinLock {
 public:
  void lock() {
    for (int spins = 0;; ++spins) {
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
      while (locked_.load(std::memory_order_relaxed)) {
        if (spins++ > 64) raw_sched_yield();
        else __builtin_ia32_pause();
      }
    }
  }
  void unlock() { locked_.store(false, std::memory_order_release); }
  // After fork() in the child: whoever held it no longer exists.
  void reset() { locked_.store(false, std::memory_order_relaxed); }

 private:
  std::atomic<bool> locked_{false};
};

class SpinGuard {
 public:
  explicit SpinGuard(SpinLock& l) : l_(l) { l_.lock(); }
  ~SpinGuard() { l_.unlock(); }
  SpinGuard(const SpinGuard&) = delete;
  SpinGuard& operator=(const SpinGuard&) = delete;

 private:
  SpinLock& l_;
};

}  // namespace racetrap
