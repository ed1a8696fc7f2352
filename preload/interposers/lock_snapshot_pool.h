// lock_snapshot_pool.h — the storage for lock-order stack snapshots
// (a pair: PendingLockEdges::kSnapshots), lent only to a thread that finds a new
// lock-order edge (takes a lock while holding another, the pair not yet in the graph)
// until that edge is added. Giving each thread its own pair (16.7 KiB) cost every
// locking thread that much of resident heap, though new edges are few.
//
// A thread claims a pair at a new edge, inside the program's hold, so the claim must
// neither allocate nor fault: the pool keeps two spare pairs, allocated and faulted in
// beforehand in ordinary context (when a thread is created or first locks, and once a
// thread that claimed holds no lock), from the process's first claim on: before it
// (a program that never nests locks) none are kept. The pair comes back once the
// thread's edges are added (it holds no lock then) or its state is destroyed: only
// threads between a new edge and its addition hold one. A claim that finds no spare
// (the process's first, three threads finding new edges at once) gets none: that
// edge's stack is unwound in place (lock_tracking.cc's fallback).
#pragma once

#include "stack_snapshot.h"

namespace racetrap {

// A spare pair (ownership passes to the caller), or nullptr. Lock-free, no
// allocation, no fault. signal-safe.
StackSnapshot* claim_lock_snapshots();

// Ordinary context, no lock of the program held: allocates and faults in the spare
// pairs missing (nothing when allocation fails, or before the process's first claim).
void stock_lock_snapshots();

// A pair a thread no longer needs (nullptr: nothing): a spare if one is missing,
// else freed. Ordinary context.
void return_lock_snapshots(StackSnapshot* pair);

}  // namespace racetrap
