// annotations.cc — the standard dynamic-annotation entry points (the names and
// signatures ThreadSanitizer, Helgrind and Abseil's dynamic_annotations.h use),
// exported from libracetrap.so. The benign-race table is the engine's
// (lib/engine/benign_races.h).
// Programs declare them as external (possibly weak) functions; see
// include/racetrap/annotations.h.
// Contract:
//  - HappensBefore(addr) releases the thread's clock into addr's clock,
//    HappensAfter(addr) acquires it (the edge of a hand-written handoff);
//  - RWLockAcquired/Released follow the rwlock model of happens_before.h
//    (is_w != 0: writer), RWLockCreate/Destroy forget the lock's clocks;
//  - CondVarSignal(All)/CondVarWait are a release/acquire on the condition;
//  - BenignRaceSized/BenignRace add a range to the benign table; a conflict on it
//    is never reported (the sampler and the trap consult is_benign_race_address);
//  - IgnoreReads/WritesBegin/End nest per thread (ThreadState::ignore_*);
//  - NewMemory retires every watch on the range (like free);
//  - the rest are accepted and do nothing.
// Every entry point does nothing when racetrap does not watch the process or the
// calling thread; none is called from a signal handler (only
// is_benign_race_address is, and it is lock-free).
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "benign_races.h"
#include "happens_before.h"
#include "lock_misuse.h"
#include "lock_tracking.h"
#include "real_function.h"
#include "safe_format.h"

namespace racetrap {
namespace {

std::atomic<bool> benign_full_reported{false};

const void* as_key(const volatile void* p) { return const_cast<const void*>(p); }

// The thread's state for an annotation: nullptr when racetrap does not watch it.
ThreadState* annotating_thread() { return watched_thread(); }

void bump(int& counter, int delta) {
  std::atomic_signal_fence(std::memory_order_seq_cst);
  const int v = counter + delta;
  counter = v < 0 ? 0 : v;
  std::atomic_signal_fence(std::memory_order_seq_cst);
}

// Declares a benign range; one line on stderr (verbosity >= 1) the first time
// the table is full.
void declare_benign_race(uint64_t addr, uint64_t size) {
  if (add_benign_race(addr, size)) return;
  if (!benign_full_reported.exchange(true) && runtime().flags.verbosity >= 1)
    write_stderr_line("racetrap: benign-race table full (256 ranges): further AnnotateBenignRace* ignored");
}

}  // namespace

}  // namespace racetrap

using namespace racetrap;

RACETRAP_INTERPOSE void AnnotateHappensBefore(const char*, int, const volatile void* addr) {
  if (ThreadState* t = annotating_thread()) {
    RuntimeScope scope;
    release(t, as_key(addr));
  }
}

RACETRAP_INTERPOSE void AnnotateHappensAfter(const char*, int, const volatile void* addr) {
  if (ThreadState* t = annotating_thread()) {
    RuntimeScope scope;
    acquire(t, as_key(addr));
  }
}

RACETRAP_INTERPOSE void AnnotateCondVarSignal(const char*, int, const volatile void* cv) {
  AnnotateHappensBefore(nullptr, 0, cv);
}

RACETRAP_INTERPOSE void AnnotateCondVarSignalAll(const char*, int, const volatile void* cv) {
  AnnotateHappensBefore(nullptr, 0, cv);
}

RACETRAP_INTERPOSE void AnnotateCondVarWait(const char*, int, const volatile void* cv, const volatile void*) {
  AnnotateHappensAfter(nullptr, 0, cv);
}

// Annotated locks are held locks (lock_tracking.h) from Acquired to Released, so
// a release by a thread that does not hold one is reported (lock_misuse.h); they
// add no lock-order edges of their own. `ret`: the program's call site.
namespace {

void annotated_lock_created(const volatile void* lock, void* ret) {
  if (ThreadState* t = annotating_thread()) {
    RuntimeScope scope;
    rwlock_forget(as_key(lock));
    if (lock_tracking_on(ret)) after_lock_destroyed(t, as_key(lock));
  }
}

}  // namespace

RACETRAP_INTERPOSE void AnnotateRWLockCreate(const char*, int, const volatile void* lock) {
  annotated_lock_created(lock, __builtin_return_address(0));
}

RACETRAP_INTERPOSE void AnnotateRWLockCreateStatic(const char*, int, const volatile void* lock) {
  annotated_lock_created(lock, __builtin_return_address(0));
}

RACETRAP_INTERPOSE void AnnotateRWLockDestroy(const char*, int, const volatile void* lock) {
  annotated_lock_created(lock, __builtin_return_address(0));
}

RACETRAP_INTERPOSE void AnnotateRWLockAcquired(const char*, int, const volatile void* lock, long is_w) {
  if (ThreadState* t = annotating_thread()) {
    RuntimeScope scope;
    void* ret = __builtin_return_address(0);
    if (lock_tracking_on(ret))
      after_lock(t, as_key(lock), is_w != 0 ? HeldMode::kWrite : HeldMode::kRead, reinterpret_cast<uint64_t>(ret));
    rwlock_acquire(t, as_key(lock), is_w != 0);
  }
}

RACETRAP_INTERPOSE void AnnotateRWLockReleased(const char*, int, const volatile void* lock, long is_w) {
  if (ThreadState* t = annotating_thread()) {
    RuntimeScope scope;
    void* ret = __builtin_return_address(0);
    if (lock_tracking_on(ret) && !before_rwlock_unlock(t, as_key(lock)))
      report_annotated_unlock_unheld(t, lock, reinterpret_cast<uint64_t>(ret));
    rwlock_release(t, as_key(lock), is_w != 0);
  }
}

RACETRAP_INTERPOSE void AnnotateBenignRaceSized(const char*, int, const volatile void* addr, size_t size,
                                                const char*) {
  if (!runtime_active()) return;
  RuntimeScope scope;
  declare_benign_race(reinterpret_cast<uint64_t>(addr), size);
}

RACETRAP_INTERPOSE void AnnotateBenignRace(const char* file, int line, const volatile void* addr,
                                           const char* description) {
  AnnotateBenignRaceSized(file, line, addr, 1, description);
}

RACETRAP_INTERPOSE void AnnotateIgnoreReadsBegin(const char*, int) {
  if (ThreadState* t = current_thread()) bump(t->ignore_reads, +1);
}

RACETRAP_INTERPOSE void AnnotateIgnoreReadsEnd(const char*, int) {
  if (ThreadState* t = current_thread()) bump(t->ignore_reads, -1);
}

RACETRAP_INTERPOSE void AnnotateIgnoreWritesBegin(const char*, int) {
  if (ThreadState* t = current_thread()) bump(t->ignore_writes, +1);
}

RACETRAP_INTERPOSE void AnnotateIgnoreWritesEnd(const char*, int) {
  if (ThreadState* t = current_thread()) bump(t->ignore_writes, -1);
}

RACETRAP_INTERPOSE void AnnotateNewMemory(const char*, int, const volatile void* mem, size_t size) {
  if (!runtime_active()) return;
  RuntimeScope scope;
  runtime().board.retire_range(reinterpret_cast<uint64_t>(mem), size);
}

// Accepted for compatibility; racetrap has nothing to do for them.
RACETRAP_INTERPOSE void AnnotatePublishMemoryRange(const char*, int, const volatile void*, size_t) {}
RACETRAP_INTERPOSE void AnnotateUnpublishMemoryRange(const char*, int, const volatile void*, size_t) {}
RACETRAP_INTERPOSE void AnnotateMutexIsUsedAsCondVar(const char*, int, const volatile void*) {}
RACETRAP_INTERPOSE void AnnotateMutexIsNotPHB(const char*, int, const volatile void*) {}
RACETRAP_INTERPOSE void AnnotateThreadName(const char*, int, const char*) {}
RACETRAP_INTERPOSE void AnnotateTraceMemory(const char*, int, const volatile void*) {}
RACETRAP_INTERPOSE void AnnotateFlushState(const char*, int) {}
RACETRAP_INTERPOSE void AnnotateEnableRaceDetection(const char*, int, int) {}
RACETRAP_INTERPOSE void AnnotateNoOp(const char*, int, const volatile void*) {}
