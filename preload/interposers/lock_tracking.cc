// lock_tracking.cc — see lock_tracking.h.
//
// Cost on the program's lock/unlock path (no allocation, no lock):
//   - a lock with nothing held: one scan of an empty array, one push;
//   - a nested lock whose edges are known: one lock-free node lookup for the new
//     lock plus one lock-free edge lookup per held lock;
//   - an unlock: a pop from the end of the array.
// Only a new edge (once per lock pair) captures a stack and takes the graph's
// spin lock; only a new cycle or misuse writes to the raw stream.
//
// Work done while the program holds a lock widens its windows (a latent ABBA
// deadlock becomes a real one when the first edge costs milliseconds), so inside
// a lock's hold it is kept to microseconds: the unwinder is warmed before a
// thread's first lock (libunwind's first unwind in a thread maps and clears its
// per-thread cache, ~0.1 ms), and a new edge is only captured (its stack) and
// queued in the thread's PendingLockEdges. The graph work and any report happen
// once the thread holds no lock (after the real unlock), at thread or process
// exit, or when a lock the thread waits for stays taken for 100 ms (a real
// deadlock still leaves its report).
#include "lock_tracking.h"

#include <dlfcn.h>

#include <link.h>

#include <algorithm>
#include <atomic>
#include <cerrno>

#include "fault_in.h"
#include "lock_order_graph.h"
#include "lock_path_code.h"
#include "lock_snapshot_pool.h"
#include "spin_lock.h"
#include "stack_capture.h"
#include "stack_snapshot.h"
#include "thread_record_log.h"

namespace racetrap {

namespace {

constinit LockOrderGraph g_graph;

// glibc (NPTL) mutex kind bits.
constexpr int kKindMask = 3, kNormal = 0, kAdaptive = 3;

// Cuts racetrap's own frames off a stack taken inside an interposer: frames[0]
// becomes the program's call site (`ret` - 1).
void trim_to_call_site(uint64_t ret, StackRecord* out) {
  const uint32_t n = out->frame_count;
  for (uint32_t i = 1; i < n; ++i) {
    if (out->frames[i] != ret) continue;
    for (uint32_t j = i; j < n; ++j) out->frames[j - i] = out->frames[j];
    out->frame_count = n - i;
    out->frames[0] -= 1;
    return;
  }
  if (n == 0 && ret != 0) {
    out->frame_count = 1;
    out->frames[0] = ret - 1;
  }
}

// The stack of the current call with the interposer's own frames cut off; a
// thread's first ones walked with a cursor (capture_current_stack_lazily): libunwind's
// frame cache is set up only in a thread that unwinds here often.
void capture_call_stack(uint64_t ret, StackRecord* out) {
  ensure_stack_capture();  // a single-threaded program's first report: libunwind starts here
  capture_current_stack_lazily(0, out);
  trim_to_call_site(ret, out);
}

// Misuse already reported, by kind + call site (lock-free set; when full, later
// kinds/sites are still reported, just not deduplicated).
constexpr uint32_t kMisuseSlots = 1024;
std::atomic<uint64_t> g_misuse_seen[kMisuseSlots];

bool first_misuse(MisuseKind kind, uint64_t ret) {
  uint64_t key = mix64(ret ^ (static_cast<uint64_t>(kind) << 56));
  if (key == 0) key = 1;
  uint32_t i = static_cast<uint32_t>(key) & (kMisuseSlots - 1);
  for (uint32_t probes = 0; probes < kMisuseSlots; ++probes, i = (i + 1) & (kMisuseSlots - 1)) {
    uint64_t seen = g_misuse_seen[i].load(std::memory_order_acquire);
    if (seen == key) return false;
    if (seen == 0) {
      if (g_misuse_seen[i].compare_exchange_strong(seen, key, std::memory_order_acq_rel)) return true;
      if (seen == key) return false;
    }
  }
  return true;
}

// Threads that took lock-order edges may have exited (and their slots been reused)
// by the time a cycle is found: keep their records, direct-mapped by uid.
constexpr uint32_t kThreadCacheSlots = 128;
struct CachedThread {
  uint32_t uid_plus_1 = 0;
  bool logged = false;
  ThreadRecord record{};  // initialized: the cache is zeros in .bss, not written at start-up (43 KiB resident)
};
SpinLock g_thread_cache_lock;
constinit CachedThread g_thread_cache[kThreadCacheSlots];

void remember_thread(Runtime& rt, const ThreadState* t) {
  if (t->uid == 0) return;  // the main thread has no creation to show
  CachedThread& c = g_thread_cache[t->uid % kThreadCacheSlots];
  SpinGuard guard(g_thread_cache_lock);
  if (c.uid_plus_1 == t->uid + 1) return;
  c.uid_plus_1 = t->uid + 1;
  c.logged = false;
  c.record = t->slot < kMaxThreadSlots && rt.thread_records[t->slot].uid == t->uid ? rt.thread_records[t->slot]
                                                                                    : t->record;
}

// Graph sink, under the graph's lock: the cycle's threads, then the cycle.
void write_cycle(const LockCycleRecord& cycle, void* context) {
  Runtime& rt = *static_cast<Runtime*>(context);
  {
    SpinGuard guard(g_thread_cache_lock);
    for (uint32_t i = 0; i < cycle.edge_count && i < static_cast<uint32_t>(kMaxCycleEdges); ++i) {
      const uint32_t uid = cycle.edges[i].thread_uid;
      CachedThread& c = g_thread_cache[uid % kThreadCacheSlots];
      if (uid == 0 || c.uid_plus_1 != uid + 1 || c.logged) continue;
      c.logged = true;
      rt.raw_log.append_thread(c.record);
    }
  }
  rt.raw_log.append_lock_cycle(cycle);
}


void report_misuse(ThreadState* t, MisuseKind kind, const void* mutex, uint32_t owner_tid, uint64_t earlier_pc,
                   uint64_t ret) {
  MisuseRecord record{};
  record.kind = static_cast<uint32_t>(kind);
  record.owner_tid = owner_tid;
  record.mutex = reinterpret_cast<uint64_t>(mutex);
  record.earlier_pc = earlier_pc;
  racetrap::report_misuse(t, record, ret);
}

uint32_t libc_owner(const pthread_mutex_t* m) {
  return static_cast<uint32_t>(__atomic_load_n(&m->__data.__owner, __ATOMIC_RELAXED));
}
// A priority-protect mutex keeps its priority ceiling in the high bits of the
// lock word, locked or not.
constexpr int kPrioProtectBit = 64;
constexpr unsigned kPrioCeilingMask = 0xfff80000u;
bool libc_locked(const pthread_mutex_t* m) {
  unsigned lock = static_cast<unsigned>(__atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED));
  if ((m->__data.__kind & kPrioProtectBit) != 0) lock &= ~kPrioCeilingMask;
  return lock != 0;
}

// The slow path of a nested acquisition: at least one held→lock edge is new.
// Queues the new edges; their stack is taken after the real lock call
// (take_pending_stacks), the graph is not touched.
__attribute__((noinline)) void queue_edges(ThreadState* t, uint64_t lock, uint64_t ret) {
  HeldLocks& held = t->held_locks;
  PendingLockEdges& pending = t->pending_edges;
  for (int i = 0; i < held.count(); ++i) {
    HeldLock& h = held[i];
    if (h.address == lock) continue;
    const uint32_t to = g_graph.find_node(lock);
    if (h.node == 0) h.node = g_graph.find_node(h.address);
    if (h.node != 0 && to != 0 && g_graph.has_edge(h.node, to)) continue;
    if (pending.contains(h.address, lock)) continue;
    if (pending.full()) {
      // More new edges in one hold than the queue takes: add the queued ones now
      // (this acquisition's first: their stack is this one).
      take_pending_stacks(t);
      add_pending_edges(t);
    }
    PendingLockEdges::Entry& entry = pending.push();
    entry.call_site = ret;
    LockEdgeRecord& edge = entry.edge;
    edge.acquired = lock;
    edge.thread_uid = t->uid;
    edge.os_tid = t->os_tid;
    edge.held = h.address;
    edge.held_pc = h.pc;
  }
}

// The graph's first lookups come while the program holds a lock: no page faults then.
__attribute__((constructor)) void warm_lock_order_graph() { g_graph.touch_lookup_tables(); }

}  // namespace

void report_misuse(ThreadState* t, MisuseRecord& record, uint64_t ret) {
  if (!first_misuse(static_cast<MisuseKind>(record.kind), ret != 0 ? ret : record.earlier_pc)) return;
  Runtime& rt = runtime();
  record.thread_uid = t->uid;
  record.os_tid = t->os_tid;
  if (ret != 0) {
    capture_call_stack(ret, &record.stack);
  } else {
    record.stack.frame_count = record.earlier_pc != 0 ? 1 : 0;
    record.stack.frames[0] = record.earlier_pc;
  }
  log_thread_once(rt, t->slot, t->uid);
  rt.raw_log.append_misuse(record);
}

bool mutex_is_nonrecursive(const pthread_mutex_t* m) {
  const int kind = m->__data.__kind & kKindMask;
  return kind == kNormal || kind == kAdaptive;
}

void before_blocking_lock_slow(ThreadState* t, const void* lock, bool is_mutex, uint64_t ret) {
  const Flags& flags = runtime().flags;
  HeldLocks& held = t->held_locks;
  const uint64_t address = reinterpret_cast<uint64_t>(lock);
  if (is_mutex && flags.report_misuse && mutex_is_nonrecursive(static_cast<const pthread_mutex_t*>(lock))) {
    const HeldLock* h = held.find(address);
    auto* m = static_cast<const pthread_mutex_t*>(lock);
    // libc must agree (an unlock it did not see through the interposer, e.g. by
    // another thread, leaves a stale entry here).
    if (h != nullptr && libc_locked(m) && libc_owner(m) == t->os_tid)
      report_misuse(t, MisuseKind::kSelfDeadlock, lock, t->os_tid, h->pc, ret);
  }
  if (!flags.detect_deadlocks) return;
  // Fast path: every held→lock edge is known already.
  const uint32_t to = g_graph.find_node(address);
  if (to != 0) {
    bool all_known = true;
    for (int i = 0; i < held.count() && all_known; ++i) {
      HeldLock& h = held[i];
      if (h.address == address) continue;
      if (h.node == 0) h.node = g_graph.find_node(h.address);
      all_known = h.node != 0 && g_graph.has_edge(h.node, to);
    }
    if (all_known) return;
  } else if (held.count() == 1 && held[0].address == address) {
    return;  // a relock of the only held lock: no edge
  }
  queue_edges(t, address, ret);
}

UnlockCheck before_mutex_unlock_slow(ThreadState* t, pthread_mutex_t* m) {
  HeldLocks& held = t->held_locks;
  const bool maybe_untracked = held.untracked() > 0;
  if (held.pop(reinterpret_cast<uint64_t>(m))) return {};
  if (maybe_untracked || !runtime().flags.report_misuse) return {};
  // Not held as far as the interposers saw. libc knows the owner of every kind.
  UnlockCheck check;
  check.locked = libc_locked(m);
  check.owner = libc_owner(m);
  if (check.locked && check.owner == t->os_tid) return {};  // locked before racetrap watched the thread
  check.suspect = true;
  return check;
}

void after_mutex_unlock(ThreadState* t, pthread_mutex_t* m, const UnlockCheck& check, int rc, uint64_t ret) {
  MisuseRecord record{};
  record.mutex = reinterpret_cast<uint64_t>(m);
  record.flags = kMisuseHasResult;
  record.result = rc;
  if (rc == EINVAL) {
    record.kind = static_cast<uint32_t>(MisuseKind::kInvalidMutex);
  } else if (!check.locked) {
    record.kind = static_cast<uint32_t>(MisuseKind::kUnlockOfUnlocked);
  } else {
    record.kind = static_cast<uint32_t>(MisuseKind::kUnlockByNonOwner);
    record.owner_tid = check.owner;
  }
  report_misuse(t, record, ret);
}

void report_invalid_mutex(ThreadState* t, pthread_mutex_t* m, int rc, uint64_t ret) {
  if (!runtime().flags.report_misuse) return;
  MisuseRecord record{};
  record.kind = static_cast<uint32_t>(MisuseKind::kInvalidMutex);
  record.mutex = reinterpret_cast<uint64_t>(m);
  record.flags = kMisuseHasResult;
  record.result = rc;
  report_misuse(t, record, ret);
}

void before_mutex_destroy(ThreadState* t, pthread_mutex_t* m, uint64_t ret) {
  if (!runtime().flags.report_misuse || !libc_locked(m)) return;
  report_misuse(t, MisuseKind::kDestroyOfLocked, m, libc_owner(m), 0, ret);
}

void after_lock_destroyed(ThreadState* t, const void* lock) {
  const uint64_t address = reinterpret_cast<uint64_t>(lock);
  t->held_locks.forget(address);
  t->pending_edges.forget(address);
  g_graph.forget(address);
}

void before_cond_wait(ThreadState* t, pthread_mutex_t* m, uint64_t ret) {
  if (!runtime().flags.report_misuse) return;
  const HeldLocks& held = t->held_locks;
  if (held.untracked() > 0 || const_cast<HeldLocks&>(held).find(reinterpret_cast<uint64_t>(m)) != nullptr) return;
  if (libc_locked(m) && libc_owner(m) == t->os_tid) return;  // locked before racetrap watched the thread
  report_misuse(t, MisuseKind::kCondWaitUnheld, m, libc_locked(m) ? libc_owner(m) : 0, 0, ret);
}

__attribute__((noinline)) void take_pending_stacks(ThreadState* t) {
  PendingLockEdges& pending = t->pending_edges;
  if (pending.stacks_pending() == 0) return;
  // A new edge in this hold: the thread's snapshot pair comes from the pool's spares.
  if (pending.snapshots() == nullptr) pending.set_snapshots(claim_lock_snapshots());
  int slot = pending.take_snapshot_slot();
  if (slot >= 0 && !take_stack_snapshot(t->stack.begin, t->stack.end, &pending.snapshots()[slot])) {
    pending.give_back_snapshot_slot();
    slot = -1;
  }
  StackRecord stack;
  stack.frame_count = 0;
  bool captured = false;
  for (int i = 0; i < pending.count(); ++i) {
    PendingLockEdges::Entry& entry = pending[i];
    if (!entry.stack_pending) continue;
    entry.stack_pending = false;
    entry.snapshot = slot;
    if (slot >= 0) continue;
    // No snapshot (none left in this hold, or an unknown stack): unwind here.
    if (!captured) capture_call_stack(entry.call_site, &stack);
    captured = true;
    entry.edge.stack = stack;
  }
  pending.stacks_taken();
}

void add_pending_edges(ThreadState* t) {
  PendingLockEdges& pending = t->pending_edges;
  if (pending.count() == 0) return;
  Runtime& rt = runtime();
  remember_thread(rt, t);
  for (int i = 0; i < pending.count(); ++i) {
    PendingLockEdges::Entry& entry = pending[i];
    if (entry.snapshot >= 0) {
      ensure_stack_capture();
      unwind_stack_snapshot(pending.snapshots()[entry.snapshot], &entry.edge.stack);
      trim_to_call_site(entry.call_site, &entry.edge.stack);
    }
    g_graph.add_edge(entry.edge, write_cycle, &rt);
  }
  pending.clear();
  // Outside any hold: the thread's pair goes back to the pool (its next new edge
  // claims a spare again), so only threads between a new edge and its addition
  // keep one; and a spare is ready for the next claim.
  if (t->held_locks.count() == 0) {
    return_lock_snapshots(pending.snapshots());
    pending.set_snapshots(nullptr);
    stock_lock_snapshots();
  }
}

void prepare_lock_tracking(ThreadState* t) {
  // The queue's pages are faulted in now, page by page: its first edge is written
  // inside a hold. Its snapshot pair is lent at a new edge from the pool's spares,
  // which are stocked here. The lock paths are made ready too
  // (lock_path_code.h).
  fault_in(&t->pending_edges, sizeof t->pending_edges);
  stock_lock_snapshots();
  prepare_lock_paths();
  t->lock_tracking_prepared = true;
}

void lock_tracking_after_fork_child() {
  g_graph.reset_lock_after_fork();
  g_thread_cache_lock.reset();
}

}  // namespace racetrap
