// lock_order_graph.h — the process-wide lock-order graph for potential-deadlock
// (lock-order inversion) detection: a node per lock (mutex or rwlock address)
// that ever was held while another was taken, an edge held→acquired the first
// time a thread acquires `acquired` while holding `held`. An edge that closes a
// cycle reports the cycle (once per set of lock addresses + acquisition sites).
//
// Cost model: the interposers look up nodes and edges on every nested lock, so
// those lookups are lock-free (open addressing over single 64-bit words, read
// with acquire loads). Adding a node or an edge, forgetting a lock and the cycle
// search (a breadth-first search bounded by the graph's size) take one spin lock
// and happen once per new lock pair. No allocation at all: every table has a
// fixed capacity (a few MiB of zero pages, touched as used); when one is full,
// new edges are dropped and counted (dropped()).
//
// Ordinary context only (never from a signal handler).
#pragma once

#include <atomic>
#include <cstdint>

#include "race_record.h"
#include "spin_lock.h"

namespace racetrap {

// A 64-bit mixer (murmur3 finalizer) for hashing addresses and pcs. signal-safe.
inline uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

class LockOrderGraph {
 public:
  static constexpr uint32_t kNodeSlots = 4096;   // power of two; node ids are slot + 1
  static constexpr uint32_t kEdgeSlots = 16384;  // power of two
  static constexpr uint32_t kMaxEdges = 4096;    // edges with their stacks
  static constexpr uint32_t kReportedSlots = 1024;

  // Called with each newly found cycle, under the graph's lock (keep it short:
  // e.g. one write(2)).
  using CycleSink = void (*)(const LockCycleRecord& cycle, void* context);

  enum class AddResult { kExists, kAdded, kCycle, kFull };

  // Lock-free: the node id of `lock`, 0 when it has none.
  uint32_t find_node(uint64_t lock) const;
  // Lock-free: whether the edge from→to (node ids) exists.
  bool has_edge(uint32_t from, uint32_t to) const;

  // Adds the edge edge.held → edge.acquired (creating their nodes) with its
  // thread and stack, unless it exists. When the new edge closes a cycle not
  // reported before, `sink` gets the cycle (kCycle). *held_node/*acquired_node
  // receive the node ids (0 when the graph is full).
  AddResult add_edge(const LockEdgeRecord& edge, CycleSink sink, void* context, uint32_t* held_node = nullptr,
                     uint32_t* acquired_node = nullptr);

  // The lock was destroyed: drops its node and every edge to or from it. Cheap
  // (one lock-free lookup) for a lock that never was nested.
  void forget(uint64_t lock);

  // Reads one word per page of the lock-free lookup tables, so that the first
  // lookups (made while the program holds a lock) take no page faults. Once per
  // process is enough; no memory is committed (untouched pages read as zero).
  void touch_lookup_tables() const;

  // In a forked child: whoever held the graph's lock does not exist there.
  void reset_lock_after_fork() { lock_.reset(); }

  uint32_t nodes() const { return live_nodes_.load(std::memory_order_relaxed); }
  uint32_t edges() const { return live_edges_.load(std::memory_order_relaxed); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  uint64_t cycles_reported() const { return cycles_.load(std::memory_order_relaxed); }

 private:
  static constexpr uint64_t kEmpty = 0;
  static constexpr uint64_t kTombstone = ~0ull;

  struct Node {
    uint32_t out_head = 0;  // edge pool indices (1-based), linked by Edge::next_out
    uint32_t in_head = 0;
    uint32_t stamp = 0;     // BFS visit mark
    uint32_t via = 0;       // BFS: the edge that reached this node
  };
  struct Edge {
    LockEdgeRecord record{};
    uint32_t from = 0, to = 0;  // node ids
    uint32_t next_out = 0, next_in = 0;
    uint32_t slot = 0;          // in edge_keys_
  };

  static uint64_t edge_key(uint32_t from, uint32_t to) { return (static_cast<uint64_t>(from) << 32) | to; }
  static uint32_t node_home(uint64_t lock);
  static uint32_t edge_home(uint64_t key);
  uint32_t node_locked(uint64_t lock, bool create);
  uint32_t find_edge_slot(uint64_t key, bool* found) const;
  void unlink(uint32_t* head, uint32_t index, bool out);
  void release_edge(uint32_t index);
  bool find_path(uint32_t from, uint32_t to);  // BFS from `from`; Node::via marks the path
  bool remember_cycle(const LockCycleRecord& cycle);

  SpinLock lock_;
  std::atomic<uint64_t> node_keys_[kNodeSlots] = {};  // lock address, kEmpty, kTombstone
  std::atomic<uint64_t> edge_keys_[kEdgeSlots] = {};  // edge_key(), kEmpty, kTombstone
  // Under lock_:
  Node nodes_[kNodeSlots + 1];      // by node id
  uint32_t edge_index_[kEdgeSlots] = {};  // slot -> edge pool index
  Edge edges_[kMaxEdges + 1];       // 1-based pool
  uint32_t free_edge_ = 0;          // free list through next_out
  uint32_t edges_taken_ = 0;       // pool entries ever used (1..edges_taken_)
  uint32_t node_slots_used_ = 0;    // non-empty slots (live + tombstones)
  uint32_t edge_slots_used_ = 0;
  uint32_t stamp_ = 0;
  uint32_t queue_[kNodeSlots] = {};
  uint64_t reported_[kReportedSlots] = {};
  LockCycleRecord scratch_{};
  std::atomic<uint32_t> live_nodes_{0}, live_edges_{0};
  std::atomic<uint64_t> dropped_{0}, cycles_{0};
};

// The identity of a cycle for deduplication: the set of its (held, acquired,
// call site) triples, independent of where the cycle starts.
uint64_t lock_cycle_identity(const LockCycleRecord& cycle);

}  // namespace racetrap
