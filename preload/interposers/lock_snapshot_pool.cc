// lock_snapshot_pool.cc — the one spare pair of pre-faulted lock-order snapshots
// (lock_snapshot_pool.h).
#include "lock_snapshot_pool.h"

#include <atomic>
#include <cstddef>
#include <new>
#include <type_traits>

#include "pending_lock_edges.h"

namespace racetrap {
namespace {

constexpr int kPair = PendingLockEdges::kSnapshots;
static_assert(std::is_trivially_destructible_v<StackSnapshot>);

// Written by every stock and claim, so its page is resident before any claim reads it.
constinit std::atomic<StackSnapshot*> g_spare{nullptr};

// Allocated and freed through the plain operator new/delete, which the thread states
// use too: the array forms sit in a page of libracetrap.so's code that nothing else
// needs resident.
StackSnapshot* allocate_pair() {
  void* raw = ::operator new(sizeof(StackSnapshot) * kPair, std::nothrow);
  if (raw == nullptr) return nullptr;
  auto* pair = static_cast<StackSnapshot*>(raw);
  for (int i = 0; i < kPair; ++i) new (pair + i) StackSnapshot;
  return pair;
}

void free_pair(StackSnapshot* pair) { ::operator delete(pair); }  // trivially destructible

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
  StackSnapshot* pair = allocate_pair();
  if (pair == nullptr) return;
  fault_in(pair);
  StackSnapshot* expected = nullptr;
  if (!g_spare.compare_exchange_strong(expected, pair, std::memory_order_release, std::memory_order_relaxed))
    free_pair(pair);  // another thread stocked one meanwhile
}

void return_lock_snapshots(StackSnapshot* pair) {
  if (pair == nullptr) return;
  StackSnapshot* expected = nullptr;
  if (!g_spare.compare_exchange_strong(expected, pair, std::memory_order_release, std::memory_order_relaxed))
    free_pair(pair);
}

}  // namespace racetrap
