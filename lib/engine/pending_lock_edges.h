// pending_lock_edges.h — lock-order edges one thread found while it held locks,
// not yet added to the lock-order graph. Adding an edge (unwinding its stack,
// the graph's spin lock, first touches of its tables, a cycle search, a report
// write) takes far longer than a program's critical section. Before the real
// lock call a thread only records the edge (its stack is still to be taken);
// right after that call, still inside the interposer (the program's frames
// unchanged), a StackSnapshot is taken; once the thread holds no lock, the
// snapshot is unwound and the edge added (preload/lock_tracking.cc).
// Fixed arrays, no allocation here (the snapshot storage, already faulted in, is
// lent by the owner at a new edge and taken back once the edges are added); only its
// own thread reads or writes it.
#pragma once

#include <cstdint>

#include "race_record.h"
#include "stack_snapshot.h"

namespace racetrap {

class PendingLockEdges {
 public:
  static constexpr int kCapacity = 8;
  static constexpr int kSnapshots = 2;  // acquisitions with new edges in one hold

  struct Entry {
    LockEdgeRecord edge;
    uint64_t call_site;  // the interposer's return address: where the program's frames start
    int snapshot;        // index into snapshots(), or -1: edge.stack is final
    bool stack_pending;  // the stack is still to be taken (snapshot, edge.stack unset)
  };

  int count() const { return count_; }
  bool full() const { return count_ == kCapacity; }
  Entry& operator[](int i) { return entries_[i]; }

  bool contains(uint64_t held, uint64_t acquired) const {
    for (int i = 0; i < count_; ++i)
      if (entries_[i].edge.held == held && entries_[i].edge.acquired == acquired) return true;
    return false;
  }
  // Room is the caller's to check (full()).
  Entry& push() {
    Entry& e = entries_[count_++];
    e.snapshot = -1;
    e.stack_pending = true;
    e.edge.stack.frame_count = 0;
    ++stacks_pending_;
    return e;
  }
  // Entries whose stack is still to be taken (all from the current lock call).
  int stacks_pending() const { return stacks_pending_; }
  void stacks_taken() { stacks_pending_ = 0; }
  // Drops the edges to or from `lock` (it was destroyed).
  void forget(uint64_t lock) {
    int kept = 0;
    stacks_pending_ = 0;
    for (int i = 0; i < count_; ++i) {
      if (entries_[i].edge.held == lock || entries_[i].edge.acquired == lock) continue;
      stacks_pending_ += entries_[i].stack_pending;
      entries_[kept++] = entries_[i];
    }
    count_ = kept;
  }
  void clear() {
    count_ = 0;
    stacks_pending_ = 0;
    snapshots_used_ = 0;
  }

  // Snapshot storage (kSnapshots of them), or nullptr until it is given.
  StackSnapshot* snapshots() const { return snapshots_; }
  void set_snapshots(StackSnapshot* storage) { snapshots_ = storage; }
  // A free snapshot's index, or -1 (none given, or all in use).
  int take_snapshot_slot() {
    return snapshots_ != nullptr && snapshots_used_ < kSnapshots ? snapshots_used_++ : -1;
  }
  void give_back_snapshot_slot() { --snapshots_used_; }

 private:
  Entry entries_[kCapacity];
  int count_ = 0;
  int stacks_pending_ = 0;
  StackSnapshot* snapshots_ = nullptr;
  int snapshots_used_ = 0;
};

}  // namespace racetrap
