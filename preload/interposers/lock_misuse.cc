// lock_misuse.cc — see lock_misuse.h.
//
// Cost on the program's paths: a condition wait adds one lock-free table lookup
// and two compare-and-swaps (the mutex is held while it runs); the other checks
// run on rare calls (init, destroy, thread exit) or when a misuse is found.
#include "lock_misuse.h"

#include <atomic>

#include "lock_tracking.h"
#include "lock_order_graph.h"
#include "signal_context.h"

namespace racetrap {
namespace {

// glibc's (NPTL, x86-64) barrier and unnamed semaphore layouts.
struct GlibcBarrier {
  unsigned in;             // threads that entered so far (since the last reset)
  unsigned current_round;  // where the current round starts: waiting threads have in > current_round
  unsigned count;
  int shared;
  unsigned out;
};
static_assert(sizeof(GlibcBarrier) <= sizeof(pthread_barrier_t));
struct GlibcSemaphore {
  uint64_t data;  // value in the low 32 bits, waiters in the high 32
  int is_private;
  int pad;
};
static_assert(sizeof(GlibcSemaphore) <= sizeof(sem_t));

bool report_on() { return runtime().flags.report_misuse; }

constexpr int kRobustBit = 16;  // glibc mutex kind: PTHREAD_MUTEX_ROBUST_NORMAL_NP

// Objects initialized through the interposers (barriers and semaphores), tagged
// by kind in bit 0 of the address: lock-free open addressing. Full: not added (an
// object not in the set is never judged, so a full set only loses checks).
constexpr uint32_t kInitSlots = 4096;
constexpr uint64_t kTombstone = 2;  // no object is at address 2
std::atomic<uint64_t> g_initialized[kInitSlots];

uint64_t init_key(const void* object, bool semaphore) {
  return reinterpret_cast<uint64_t>(object) | (semaphore ? 1 : 0);
}

bool initialized(uint64_t key) {
  uint32_t i = static_cast<uint32_t>(mix64(key)) & (kInitSlots - 1);
  for (uint32_t probes = 0; probes < kInitSlots; ++probes, i = (i + 1) & (kInitSlots - 1)) {
    const uint64_t v = g_initialized[i].load(std::memory_order_acquire);
    if (v == key) return true;
    if (v == 0) return false;
  }
  return false;
}

void mark_initialized(uint64_t key, bool yes) {
  uint32_t i = static_cast<uint32_t>(mix64(key)) & (kInitSlots - 1);
  for (uint32_t probes = 0; probes < kInitSlots; ++probes, i = (i + 1) & (kInitSlots - 1)) {
    uint64_t v = g_initialized[i].load(std::memory_order_acquire);
    if (v == key) {
      if (!yes) g_initialized[i].store(kTombstone, std::memory_order_release);
      return;
    }
    if (v == 0) {
      if (!yes) return;
      if (g_initialized[i].compare_exchange_strong(v, key, std::memory_order_acq_rel) || v == key) return;
    }
  }
}

// Condition variables being waited on: the mutex the waiters use (low 48 bits)
// and how many wait (high 16 bits), in one word so that a waiter's check and
// registration are one atomic step. Lock-free open addressing by condition; a
// condition's probe starts in the table page chosen by the 4 KiB page of memory it
// is in, at its offset there, so the conditions of a few pages of the program's
// memory share a few pages of the table (resident memory), not one page each.
constexpr uint32_t kCondSlots = 1024;
constexpr uint32_t kCondSlotsPerPage = 4096 / 16;
constexpr uint64_t kAddressMask = (uint64_t{1} << 48) - 1, kOneWaiter = uint64_t{1} << 48;
struct CondWaiters {
  std::atomic<uint64_t> cond{0};
  std::atomic<uint64_t> state{0};  // waiters << 48 | mutex
};
static_assert(sizeof(CondWaiters) * kCondSlotsPerPage == 4096);
alignas(4096) CondWaiters g_cond_waiters[kCondSlots];

CondWaiters* cond_slot(const pthread_cond_t* c, bool insert) {
  const uint64_t key = reinterpret_cast<uint64_t>(c);
  uint32_t i = static_cast<uint32_t>((mix64(key >> 12) & ~uint64_t{kCondSlotsPerPage - 1}) |
                                     ((key >> 4) & (kCondSlotsPerPage - 1))) &
               (kCondSlots - 1);
  for (uint32_t probes = 0; probes < kCondSlots; ++probes, i = (i + 1) & (kCondSlots - 1)) {
    uint64_t v = g_cond_waiters[i].cond.load(std::memory_order_acquire);
    if (v == key) return &g_cond_waiters[i];
    if (v == 0) {
      if (!insert) return nullptr;
      if (g_cond_waiters[i].cond.compare_exchange_strong(v, key, std::memory_order_acq_rel) || v == key)
        return &g_cond_waiters[i];
    }
  }
  return nullptr;
}

MisuseRecord misuse(MisuseKind kind, MisuseObject object, const void* address) {
  MisuseRecord record{};
  record.kind = static_cast<uint32_t>(kind);
  record.object = static_cast<uint32_t>(object);
  record.mutex = reinterpret_cast<uint64_t>(address);
  return record;
}

void set_result(MisuseRecord& record, int rc) {
  record.flags |= kMisuseHasResult;
  record.result = rc;
}

}  // namespace

void report_rwlock_unlock_unheld(ThreadState* t, const pthread_rwlock_t* l, int rc, uint64_t ret) {
  if (!report_on()) return;
  MisuseRecord record = misuse(MisuseKind::kRwlockUnlockUnheld, MisuseObject::kRwlock, l);
  set_result(record, rc);
  report_misuse(t, record, ret);
}

RwlockUse rwlock_use(const pthread_rwlock_t* l) {
  // __readers: bit 0 write phase, bit 1 write-locked, bit 2 readers waiting,
  // bits 3.. the number of readers.
  constexpr unsigned kWriteLocked = 2, kReaderShift = 3;
  const unsigned readers = __atomic_load_n(&l->__data.__readers, __ATOMIC_RELAXED);
  const int writer = __atomic_load_n(&l->__data.__cur_writer, __ATOMIC_RELAXED);
  RwlockUse use;
  use.held = (readers & kWriteLocked) != 0 || (readers >> kReaderShift) != 0;
  use.writer = (readers & kWriteLocked) != 0 && writer > 0 ? static_cast<uint32_t>(writer) : 0;
  return use;
}

void report_rwlock_destroy_held(ThreadState* t, const pthread_rwlock_t* l, const RwlockUse& use, int rc,
                                uint64_t ret) {
  if (!use.held || !report_on()) return;
  MisuseRecord record = misuse(MisuseKind::kDestroyOfLockedRwlock, MisuseObject::kRwlock, l);
  record.owner_tid = use.writer;
  set_result(record, rc);
  report_misuse(t, record, ret);
}

void cond_wait_begin(ThreadState* t, const pthread_cond_t* c, const pthread_mutex_t* m, uint64_t ret) {
  if (!report_on()) return;
  CondWaiters* slot = cond_slot(c, true);
  if (slot == nullptr) return;
  const uint64_t mutex = reinterpret_cast<uint64_t>(m) & kAddressMask;
  uint64_t state = slot->state.load(std::memory_order_acquire);
  uint64_t other = 0;
  for (;;) {
    const uint64_t waiters = state >> 48;
    if (waiters == 0xffff) return;  // saturated: no check, no count
    const uint64_t bound = waiters == 0 ? mutex : state & kAddressMask;
    other = waiters != 0 && bound != mutex ? bound : 0;
    const uint64_t next = (waiters + 1) * kOneWaiter | bound;
    if (slot->state.compare_exchange_weak(state, next, std::memory_order_acq_rel)) break;
  }
  if (other == 0) return;
  MisuseRecord record = misuse(MisuseKind::kCondWaitTwoMutexes, MisuseObject::kCondVar, c);
  record.with_mutex = mutex;
  record.other_mutex = other;
  report_misuse(t, record, ret);
}

void cond_wait_end(const pthread_cond_t* c) {
  if (!report_on()) return;
  CondWaiters* slot = cond_slot(c, false);
  if (slot == nullptr) return;
  uint64_t state = slot->state.load(std::memory_order_acquire);
  while ((state >> 48) != 0 && (state >> 48) != 0xffff &&
         !slot->state.compare_exchange_weak(state, state - kOneWaiter, std::memory_order_acq_rel)) {
  }
}

void before_cond_destroy(ThreadState* t, pthread_cond_t* c, uint64_t ret) {
  if (CondWaiters* slot = cond_slot(c, false)) slot->state.store(0, std::memory_order_release);
  if (!report_on()) return;
  // __wrefs: bits 3.. count the waiters that still refer to the condition.
  const unsigned wrefs = __atomic_load_n(&c->__data.__wrefs, __ATOMIC_RELAXED);
  if ((wrefs >> 3) == 0) return;
  // Reported before the call: it blocks until the waiters have left, maybe forever.
  MisuseRecord record = misuse(MisuseKind::kDestroyOfBusyCondVar, MisuseObject::kCondVar, c);
  report_misuse(t, record, ret);
}

namespace {

// Threads blocked on the barrier: entered, and their round not complete yet
// (fewer than `count`, or the contents are no barrier's).
bool barrier_has_waiters(const pthread_barrier_t* b) {
  const auto* g = reinterpret_cast<const GlibcBarrier*>(b);
  const unsigned in = __atomic_load_n(&g->in, __ATOMIC_RELAXED);
  const unsigned round = __atomic_load_n(&g->current_round, __ATOMIC_RELAXED);
  const unsigned count = __atomic_load_n(&g->count, __ATOMIC_RELAXED);
  return count != 0 && in > round && in - round < count;
}

}  // namespace

bool barrier_in_use_before_init(const pthread_barrier_t* b) {
  return report_on() && initialized(init_key(b, false)) && barrier_has_waiters(b);
}

void after_barrier_init(ThreadState* t, pthread_barrier_t* b, unsigned count, bool was_in_use, int rc,
                        uint64_t ret) {
  if (rc == 0) mark_initialized(init_key(b, false), true);
  if (!report_on()) return;
  if (count == 0) {
    MisuseRecord record = misuse(MisuseKind::kBarrierInitZero, MisuseObject::kBarrier, b);
    set_result(record, rc);
    report_misuse(t, record, ret);
  } else if (was_in_use) {
    MisuseRecord record = misuse(MisuseKind::kBarrierReinitInUse, MisuseObject::kBarrier, b);
    set_result(record, rc);
    report_misuse(t, record, ret);
  }
}

void before_barrier_destroy(ThreadState* t, pthread_barrier_t* b, uint64_t ret) {
  mark_initialized(init_key(b, false), false);
  if (!report_on() || !barrier_has_waiters(b)) return;
  // Reported before the call: glibc waits for the round to complete, maybe forever.
  MisuseRecord record = misuse(MisuseKind::kDestroyOfBusyBarrier, MisuseObject::kBarrier, b);
  report_misuse(t, record, ret);
}

bool sem_has_waiters(const sem_t* s) {
  const auto* g = reinterpret_cast<const GlibcSemaphore*>(s);
  const uint64_t waiters = __atomic_load_n(&g->data, __ATOMIC_RELAXED) >> 32;
  return waiters != 0 && waiters < (uint64_t{1} << 24);  // a count no real program reaches: not a semaphore
}

bool sem_in_use_before_init(const sem_t* s) {
  return report_on() && initialized(init_key(s, true)) && sem_has_waiters(s);
}

void after_sem_init(ThreadState* t, sem_t* s, bool was_in_use, int rc, uint64_t ret) {
  if (rc == 0) mark_initialized(init_key(s, true), true);
  if (!was_in_use || !report_on()) return;
  MisuseRecord record = misuse(MisuseKind::kSemInitInUse, MisuseObject::kSemaphore, s);
  set_result(record, rc);
  report_misuse(t, record, ret);
}

void after_sem_destroy(ThreadState* t, sem_t* s, bool had_waiters, int rc, uint64_t ret) {
  mark_initialized(init_key(s, true), false);
  if (!had_waiters || !report_on()) return;
  MisuseRecord record = misuse(MisuseKind::kDestroyOfBusySemaphore, MisuseObject::kSemaphore, s);
  set_result(record, rc);
  report_misuse(t, record, ret);
}

void check_locks_at_thread_exit(ThreadState* t, uint64_t ret) {
  if (!report_on()) return;
  const HeldLocks& held = t->held_locks;
  const HeldLock* first = nullptr;
  uint32_t count = 0;
  for (int i = 0; i < held.count(); ++i) {
    const HeldLock& h = held[i];
    if (h.mode != HeldMode::kMutex) continue;
    // libc must agree: the program may have freed the memory, or another thread
    // unlocked it behind the interposers' back (reported when it happened).
    pthread_mutex_t m;
    if (copy_from_memory(h.address, &m, sizeof m) != sizeof m) continue;
    if (m.__data.__lock == 0 || static_cast<uint32_t>(m.__data.__owner) != t->os_tid) continue;
    // A robust mutex is made for owners that die: its next lock returns
    // EOWNERDEAD and the program recovers. Not a misuse.
    if ((m.__data.__kind & kRobustBit) != 0) continue;
    if (first == nullptr) first = &h;
    ++count;
  }
  if (first == nullptr) return;
  MisuseRecord record = misuse(MisuseKind::kThreadExitHoldingLock, MisuseObject::kMutex,
                               reinterpret_cast<const void*>(first->address));
  record.owner_tid = t->os_tid;
  record.earlier_pc = first->pc;
  record.lock_count = count;
  report_misuse(t, record, ret);
}

void report_annotated_unlock_unheld(ThreadState* t, const volatile void* lock, uint64_t ret) {
  if (!report_on()) return;
  MisuseRecord record =
      misuse(MisuseKind::kAnnotatedUnlockUnheld, MisuseObject::kAnnotatedLock, const_cast<const void*>(lock));
  report_misuse(t, record, ret);
}

}  // namespace racetrap
