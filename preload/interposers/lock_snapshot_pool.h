// lock_snapshot_pool.h — the storage for lock-order stack snapshots
// (PendingLockEdges::kSnapshots of them per thread), handed out only to the threads
// that find a new lock-order edge, i.e. that take a lock while holding another.
// Most threads of most programs never nest locks; giving each its own pair (16.7 KiB)
// cost every locking thread that much of resident heap.
//
// A thread claims its pair at its first new edge, inside the program's hold, so the
// claim must neither allocate nor fault: the pool keeps one spare pair, allocated and
// faulted in beforehand in ordinary context (when a thread is created or first locks,
// and after each claim once the claiming thread holds no lock). A claim that finds no
// spare (two threads nesting for the first time at once) gets none: that edge's stack
// is unwound in place (lock_tracking.cc's fallback). A thread's pair comes back to the
// pool when its state is destroyed.
#pragma once

#include "stack_snapshot.h"

namespace racetrap {

// The spare pair (ownership passes to the caller), or nullptr. Lock-free, no
// allocation, no fault. signal-safe.
StackSnapshot* claim_lock_snapshots();

// Ordinary context, no lock of the program held: allocates and faults in a spare
// pair if there is none (nothing when allocation fails).
void stock_lock_snapshots();

// A pair a thread no longer needs (nullptr: nothing): the spare if there is none,
// else freed. Ordinary context.
void return_lock_snapshots(StackSnapshot* pair);

}  // namespace racetrap
