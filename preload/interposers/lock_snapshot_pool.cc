// lock_snapshot_pool.cc — the one spare pair of pre-faulted lock-order snapshots
// (lock_snapshot_pool.h).
#include "lock_snapshot_pool.h"

#include <atomic>
#include <cstddef>
#include <new>

#include "pending_lock_edges.h"

namespace racetrap {
namespace {

constexpr int kPair = PendingLockEdges::kSnapshots;

// Written by every stock and claim, so its page is resident before any claim reads it.
constinit std::atomic<StackSnapshot*> g_spare{nullptr};

void fault_in(StackSnapshot* pair) {
  // Page by page: the pages are faulted in now, not inside a lock's hold.
  auto* bytes = reinterpret_cast<volatile unsigned char*>(pair);
  constexpr size_t size = sizeof(StackSnapshot) * kPair;
  for (size_t i = 0; i < size; i += 4096) bytes[i] = bytes[i];
  bytes[size - 1] = bytes[size - 1];
}

}  // namespace

// signal-safe
StackSnapshot* claim_lock_snapshots() {
  if (g_spare.load(std::memory_order_relaxed) == nullptr) return nullptr;
  return g_spare.exchange(nullptr, std::memory_order_acquire);
}

void stock_lock_snapshots() {
  if (g_spare.load(std::memory_order_relaxed) != nullptr) return;
  auto* pair = new (std::nothrow) StackSnapshot[kPair];
  if (pair == nullptr) return;
  fault_in(pair);
  StackSnapshot* expected = nullptr;
  if (!g_spare.compare_exchange_strong(expected, pair, std::memory_order_release, std::memory_order_relaxed))
    delete[] pair;  // another thread stocked one meanwhile
}

void return_lock_snapshots(StackSnapshot* pair) {
  if (pair == nullptr) return;
  StackSnapshot* expected = nullptr;
  if (!g_spare.compare_exchange_strong(expected, pair, std::memory_order_release, std::memory_order_relaxed))
    delete[] pair;
}

}  // namespace racetrap
