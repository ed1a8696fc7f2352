// lock_snapshot_pool.cc — the spare pairs of pre-faulted lock-order snapshots
// (lock_snapshot_pool.h).
#include "lock_snapshot_pool.h"

#include <atomic>
#include <cstddef>
#include <new>
#include <type_traits>

#include "fault_in.h"
#include "pending_lock_edges.h"

namespace racetrap {
namespace {

constexpr int kPair = PendingLockEdges::kSnapshots;
static_assert(std::is_trivially_destructible_v<StackSnapshot>);

// Two spares: threads started together find their first new edges together, and a
// claim that finds none unwinds inside the program's hold. Written by every stock
// and claim, so their page is resident before any claim reads them.
constexpr int kSpares = 2;
constinit std::atomic<StackSnapshot*> g_spares[kSpares] = {};
// Set by the process's first claim (its first new lock-order edge). Until then no
// spare is stocked: a program that never takes a lock while holding another (most
// of them) never pays the spares' 33 KiB of resident heap, and a program that does
// unwinds its first new edge's stack in place, once, inside that hold.
constinit std::atomic<bool> g_claimed{false};

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

}  // namespace

// signal-safe
StackSnapshot* claim_lock_snapshots() {
  if (!g_claimed.load(std::memory_order_relaxed)) g_claimed.store(true, std::memory_order_relaxed);
  for (auto& spare : g_spares) {
    if (spare.load(std::memory_order_relaxed) == nullptr) continue;
    if (StackSnapshot* pair = spare.exchange(nullptr, std::memory_order_acquire)) return pair;
  }
  return nullptr;
}

void stock_lock_snapshots() {
  if (!g_claimed.load(std::memory_order_relaxed)) return;  // no new edge yet: nothing will claim
  for (auto& spare : g_spares) {
    if (spare.load(std::memory_order_relaxed) != nullptr) continue;
    StackSnapshot* pair = allocate_pair();
    if (pair == nullptr) return;
    fault_in(pair, sizeof(StackSnapshot) * kPair);  // now, not inside a lock's hold
    StackSnapshot* expected = nullptr;
    if (!spare.compare_exchange_strong(expected, pair, std::memory_order_release, std::memory_order_relaxed))
      free_pair(pair);  // another thread stocked this one meanwhile
  }
}

void return_lock_snapshots(StackSnapshot* pair) {
  if (pair == nullptr) return;
  for (auto& spare : g_spares) {
    StackSnapshot* expected = nullptr;
    if (spare.compare_exchange_strong(expected, pair, std::memory_order_release, std::memory_order_relaxed)) return;
  }
  free_pair(pair);
}

}  // namespace racetrap
