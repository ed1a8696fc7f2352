// lock_order_graph.cc — see lock_order_graph.h.
#include "lock_order_graph.h"

#include <algorithm>

namespace racetrap {

uint64_t lock_cycle_identity(const LockCycleRecord& cycle) {
  uint64_t parts[kMaxCycleEdges];
  const uint32_t n = std::min<uint32_t>(cycle.edge_count, kMaxCycleEdges);
  for (uint32_t i = 0; i < n; ++i) {
    const LockEdgeRecord& e = cycle.edges[i];
    const uint64_t pc = e.stack.frame_count > 0 ? e.stack.frames[0] : 0;
    parts[i] = mix64(e.held ^ mix64(e.acquired ^ mix64(pc)));
  }
  std::sort(parts, parts + n);
  uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
  for (uint32_t i = 0; i < n; ++i) h = mix64(h ^ parts[i]);
  return h == 0 ? 1 : h;
}

// Home slots that keep neighbours together, so a program's locks and their edges
// occupy a few pages of the tables (each page touched is resident for the rest of
// the process) instead of one page per lock or edge: the locks of one 64 KiB of
// memory have one 256-slot region of the node table, placed by its hash, at their
// offset in their 4 KiB page (16-byte units: locks of one page never collide; locks
// at one offset of different pages probe on, as hashed keys would); the edges
// between two regions' nodes (blocks of 256 node ids) have one 256-slot region of
// the edge table, at the low 4 bits of both ids. A program's few locks, allocated
// near each other, fill a page of each table, not one per 4 KiB of memory they are in.
uint32_t LockOrderGraph::node_home(uint64_t lock) {
  return static_cast<uint32_t>((mix64(lock >> 16) & ~uint64_t{255}) | ((lock >> 4) & 255)) & (kNodeSlots - 1);
}

uint32_t LockOrderGraph::edge_home(uint64_t key) {
  const uint64_t from = (key >> 32) - 1, to = (key & 0xffffffffu) - 1;
  const uint64_t blocks = mix64(((from >> 8) << 32) | (to >> 8));
  return static_cast<uint32_t>((blocks & ~uint64_t{255}) | ((from & 15) << 4) | (to & 15)) & (kEdgeSlots - 1);
}

uint32_t LockOrderGraph::find_node(uint64_t lock) const {
  if (lock == kEmpty || lock == kTombstone) return 0;
  uint32_t i = node_home(lock);
  for (uint32_t probes = 0; probes < kNodeSlots; ++probes, i = (i + 1) & (kNodeSlots - 1)) {
    uint64_t k = node_keys_[i].load(std::memory_order_acquire);
    if (k == lock) return i + 1;
    if (k == kEmpty) return 0;
  }
  return 0;
}

bool LockOrderGraph::has_edge(uint32_t from, uint32_t to) const {
  const uint64_t key = edge_key(from, to);
  uint32_t i = edge_home(key);
  for (uint32_t probes = 0; probes < kEdgeSlots; ++probes, i = (i + 1) & (kEdgeSlots - 1)) {
    uint64_t k = edge_keys_[i].load(std::memory_order_acquire);
    if (k == key) return true;
    if (k == kEmpty) return false;
  }
  return false;
}

// Under lock_. The node of `lock`, created when `create` and there is room.
uint32_t LockOrderGraph::node_locked(uint64_t lock, bool create) {
  if (lock == kEmpty || lock == kTombstone) return 0;
  uint32_t i = node_home(lock);
  int64_t tomb = -1;
  for (uint32_t probes = 0; probes < kNodeSlots; ++probes, i = (i + 1) & (kNodeSlots - 1)) {
    uint64_t k = node_keys_[i].load(std::memory_order_relaxed);
    if (k == lock) return i + 1;
    if (k == kTombstone && tomb < 0) tomb = i;
    if (k == kEmpty) break;
  }
  if (!create) return 0;
  uint32_t slot;
  if (tomb >= 0) {
    slot = static_cast<uint32_t>(tomb);
  } else {
    if (node_slots_used_ + 1 > kNodeSlots / 4 * 3) return 0;  // keep probe chains short
    slot = i;
    ++node_slots_used_;
  }
  nodes_[slot + 1] = Node{};
  node_keys_[slot].store(lock, std::memory_order_release);
  live_nodes_.fetch_add(1, std::memory_order_relaxed);
  return slot + 1;
}

// Under lock_. The slot holding `key` (*found), else the slot to insert it at
// (kEdgeSlots when there is none).
uint32_t LockOrderGraph::find_edge_slot(uint64_t key, bool* found) const {
  *found = false;
  uint32_t i = edge_home(key);
  int64_t tomb = -1;
  for (uint32_t probes = 0; probes < kEdgeSlots; ++probes, i = (i + 1) & (kEdgeSlots - 1)) {
    uint64_t k = edge_keys_[i].load(std::memory_order_relaxed);
    if (k == key) {
      *found = true;
      return i;
    }
    if (k == kTombstone && tomb < 0) tomb = i;
    if (k == kEmpty) return tomb >= 0 ? static_cast<uint32_t>(tomb) : i;
  }
  return tomb >= 0 ? static_cast<uint32_t>(tomb) : kEdgeSlots;
}

void LockOrderGraph::unlink(uint32_t* head, uint32_t index, bool out) {
  for (uint32_t* p = head; *p != 0;) {
    Edge& e = edges_[*p];
    if (*p == index) {
      *p = out ? e.next_out : e.next_in;
      return;
    }
    p = out ? &e.next_out : &e.next_in;
  }
}

void LockOrderGraph::release_edge(uint32_t index) {
  Edge& e = edges_[index];
  edge_keys_[e.slot].store(kTombstone, std::memory_order_release);
  edge_index_[e.slot] = 0;
  e.next_out = free_edge_;
  e.next_in = 0;
  free_edge_ = index;
  live_edges_.fetch_sub(1, std::memory_order_relaxed);
}

// Under lock_. Breadth-first search over out-edges from `from`: true when `to` is
// reached; then following Node::via back from `to` gives the path.
bool LockOrderGraph::find_path(uint32_t from, uint32_t to) {
  if (++stamp_ == 0) {  // wrapped: clear the marks once
    for (Node& n : nodes_) n.stamp = 0;
    stamp_ = 1;
  }
  uint32_t head = 0, tail = 0;
  nodes_[from].stamp = stamp_;
  nodes_[from].via = 0;
  queue_[tail++] = from;
  while (head < tail) {
    uint32_t n = queue_[head++];
    for (uint32_t ei = nodes_[n].out_head; ei != 0; ei = edges_[ei].next_out) {
      uint32_t next = edges_[ei].to;
      if (nodes_[next].stamp == stamp_) continue;
      nodes_[next].stamp = stamp_;
      nodes_[next].via = ei;
      if (next == to) return true;
      if (tail < kNodeSlots) queue_[tail++] = next;
    }
  }
  return false;
}

bool LockOrderGraph::remember_cycle(const LockCycleRecord& cycle) {
  const uint64_t id = lock_cycle_identity(cycle);
  uint32_t i = static_cast<uint32_t>(mix64(id)) & (kReportedSlots - 1);
  for (uint32_t probes = 0; probes < kReportedSlots; ++probes, i = (i + 1) & (kReportedSlots - 1)) {
    if (reported_[i] == id) return false;
    if (reported_[i] == 0) {
      reported_[i] = id;
      return true;
    }
  }
  return true;  // the table is full: report rather than lose it
}

LockOrderGraph::AddResult LockOrderGraph::add_edge(const LockEdgeRecord& edge, CycleSink sink, void* context,
                                                   uint32_t* held_node, uint32_t* acquired_node) {
  SpinGuard guard(lock_);
  const uint32_t from = node_locked(edge.held, true);
  const uint32_t to = from != 0 ? node_locked(edge.acquired, true) : 0;
  if (held_node != nullptr) *held_node = from;
  if (acquired_node != nullptr) *acquired_node = to;
  if (from == 0 || to == 0 || from == to) {
    if (from != to) dropped_.fetch_add(1, std::memory_order_relaxed);
    return from == to && from != 0 ? AddResult::kExists : AddResult::kFull;
  }
  const uint64_t key = edge_key(from, to);
  bool found = false;
  uint32_t slot = find_edge_slot(key, &found);
  if (found) return AddResult::kExists;
  const bool reuses_tombstone = slot < kEdgeSlots && edge_keys_[slot].load(std::memory_order_relaxed) == kTombstone;
  uint32_t index = free_edge_;
  if (slot == kEdgeSlots || (!reuses_tombstone && edge_slots_used_ + 1 > kEdgeSlots / 4 * 3) ||
      (index == 0 && edges_taken_ >= kMaxEdges)) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return AddResult::kFull;
  }
  if (index != 0) free_edge_ = edges_[index].next_out;
  else index = ++edges_taken_;
  if (!reuses_tombstone) ++edge_slots_used_;

  Edge& e = edges_[index];
  e.record = edge;
  e.from = from;
  e.to = to;
  e.slot = slot;
  e.next_out = nodes_[from].out_head;
  nodes_[from].out_head = index;
  e.next_in = nodes_[to].in_head;
  nodes_[to].in_head = index;
  edge_index_[slot] = index;
  edge_keys_[slot].store(key, std::memory_order_release);
  live_edges_.fetch_add(1, std::memory_order_relaxed);

  // Does the new edge close a cycle: is `from` reachable from `to`?
  if (!find_path(to, from)) return AddResult::kAdded;
  // The cycle: the new edge, then the path to -> ... -> from (found backwards).
  uint32_t path[kNodeSlots > 64 ? 64 : kNodeSlots];
  uint32_t length = 0;
  bool truncated = false;
  for (uint32_t n = from; n != to;) {
    uint32_t ei = nodes_[n].via;
    if (length < 64) path[length++] = ei;
    else truncated = true;
    n = edges_[ei].from;
  }
  LockCycleRecord& cycle = scratch_;
  cycle = LockCycleRecord{};
  cycle.edges[0] = edge;
  cycle.edge_count = 1;
  for (uint32_t i = length; i-- > 0;) {
    if (cycle.edge_count == kMaxCycleEdges) {
      truncated = true;
      break;
    }
    cycle.edges[cycle.edge_count++] = edges_[path[i]].record;
  }
  cycle.flags = truncated ? kCycleTruncated : 0;
  if (!remember_cycle(cycle)) return AddResult::kAdded;
  cycles_.fetch_add(1, std::memory_order_relaxed);
  if (sink != nullptr) sink(cycle, context);
  return AddResult::kCycle;
}

void LockOrderGraph::touch_lookup_tables() const {
  constexpr uint32_t kPerPage = 4096 / sizeof(uint64_t);
  for (uint32_t i = 0; i < kNodeSlots; i += kPerPage) (void)node_keys_[i].load(std::memory_order_relaxed);
  for (uint32_t i = 0; i < kEdgeSlots; i += kPerPage) (void)edge_keys_[i].load(std::memory_order_relaxed);
}

void LockOrderGraph::forget(uint64_t lock) {
  if (find_node(lock) == 0) return;
  SpinGuard guard(lock_);
  const uint32_t id = node_locked(lock, false);
  if (id == 0) return;
  Node& node = nodes_[id];
  while (node.out_head != 0) {
    uint32_t ei = node.out_head;
    node.out_head = edges_[ei].next_out;
    unlink(&nodes_[edges_[ei].to].in_head, ei, false);
    release_edge(ei);
  }
  while (node.in_head != 0) {
    uint32_t ei = node.in_head;
    node.in_head = edges_[ei].next_in;
    unlink(&nodes_[edges_[ei].from].out_head, ei, true);
    release_edge(ei);
  }
  node_keys_[id - 1].store(kTombstone, std::memory_order_release);
  live_nodes_.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace racetrap
