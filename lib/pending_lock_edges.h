// pending_lock_edges.h — lock-order edges one thread found while it held locks,
// not yet added to the lock-order graph. Adding an edge (the graph's spin lock,
// first touches of its tables, a cycle search, a report write) takes far longer
// than a program's critical section; a thread queues its new edges here, with
// their stacks, and adds them once it holds no lock (preload/lock_tracking.cc).
// A fixed array, no allocation; only its own thread reads or writes it.
#pragma once

#include <cstdint>

#include "race_record.h"

namespace racetrap {

class PendingLockEdges {
 public:
  static constexpr int kCapacity = 8;

  int count() const { return count_; }
  bool full() const { return count_ == kCapacity; }
  const LockEdgeRecord& operator[](int i) const { return edges_[i]; }

  bool contains(uint64_t held, uint64_t acquired) const {
    for (int i = 0; i < count_; ++i)
      if (edges_[i].held == held && edges_[i].acquired == acquired) return true;
    return false;
  }
  // Room is the caller's to check (full()).
  LockEdgeRecord& push() { return edges_[count_++]; }
  // Drops the edges to or from `lock` (it was destroyed).
  void forget(uint64_t lock) {
    int kept = 0;
    for (int i = 0; i < count_; ++i)
      if (edges_[i].held != lock && edges_[i].acquired != lock) edges_[kept++] = edges_[i];
    count_ = kept;
  }
  void clear() { count_ = 0; }

 private:
  LockEdgeRecord edges_[kCapacity];
  int count_ = 0;
};

}  // namespace racetrap
