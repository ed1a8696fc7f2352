// race_record.h — the raw report stream: what the preload appends while the
// program runs (with write(2), from signal handlers) and what `racetrap report`
// and the exit-time renderer read back. Plain fixed-size data, no pointers.
//
// File: RawFileHeader, then chunks, each ChunkHeader + `length` payload bytes.
// A chunk is written with one write(2) on an O_APPEND descriptor, so a crash or
// SIGKILL leaves every finished chunk readable; a torn last chunk is ignored.
#pragma once

#include <cstddef>
#include <cstdint>

namespace racetrap {

constexpr int kMaxFrames = 32;
constexpr uint32_t kRawVersion = 1;
constexpr char kRawMagic[8] = {'R', 'T', 'R', 'A', 'P', 'R', 'A', 'W'};

struct RawFileHeader {
  char magic[8];
  uint32_t version;
  uint32_t pid;
};

enum class ChunkType : uint32_t {
  kMaps = 1,    // payload: /proc/self/maps text; the last one read is the one used
  kThread = 2,  // payload: ThreadRecord
  kRace = 3,    // payload: RaceRecord
  kLockCycle = 4,  // payload: LockCycleRecord (lock-order inversion, potential deadlock)
  kMisuse = 5,     // payload: MisuseRecord (pthread API misuse)
  kRaceSeen = 6,   // payload: RaceSeenRecord (how often a recorded race repeated)
  kRaceWithdrawn = 7,  // payload: RaceSeenRecord (repeats 0): a race written before, for this PC pair,
                       // that the program's own synchronization turned out to explain; not reported
};

struct ChunkHeader {
  uint32_t type;
  uint32_t length;
};

// A call stack. frames[0] is the exact pc of the access (or of the call site for a
// creation stack); frames[1..] are return addresses (symbolize at pc - 1).
struct StackRecord {
  uint32_t frame_count;
  uint32_t reserved;
  uint64_t frames[kMaxFrames];
};

struct ThreadRecord {
  uint32_t uid;         // T<uid>: 0 is the main thread, then in creation order
  uint32_t parent_uid;  // who created it (== uid for the main thread)
  uint32_t os_tid;
  uint32_t reserved;
  char name[16];        // pthread_setname_np name at the time it was recorded, or ""
  StackRecord creation; // where pthread_create was called (empty for the main thread)
  // Appended later: a stream of an older writer has records that end here
  // (kThreadRecordV1Size bytes); the reader zero-fills what follows.
  // The thread's memory, [begin, end); 0, 0 when unknown. The stack range is the
  // whole block pthread_getattr_np reports (for glibc it includes the static TLS
  // and the thread descriptor at its top); the TLS range is the static TLS block
  // and the thread descriptor after it (thread pointer - TLS size .. + descriptor).
  uint64_t stack_begin;
  uint64_t stack_end;
  uint64_t tls_begin;
  uint64_t tls_end;
};
// The size of a ThreadRecord before the memory ranges were appended.
constexpr uint32_t kThreadRecordV1Size = 4 * 4 + 16 + sizeof(StackRecord);

struct AccessRecord {
  uint64_t pc;
  uint64_t address;
  uint32_t size;
  uint8_t kind;        // AccessKind
  uint8_t atomic;      // 1 when LOCK-prefixed or XCHG
  uint16_t reserved;
  uint32_t thread_uid;
  uint32_t os_tid;
  StackRecord stack;
};

// The locks one thread held at an access (mutexes and rwlocks, as the interposers
// saw them; lib/engine/held_lock_snapshot.h): the first kMaxRecordedLocks in acquisition
// order, and how many there were in all.
constexpr int kMaxRecordedLocks = 4;
constexpr uint32_t kLocksKnown = 1;  // HeldLocksRecord::flags: lock tracking was on (else: unknown)

struct HeldLockRecord {
  uint64_t address;  // the lock object
  uint64_t pc;       // call site of its acquisition (0: unknown)
  uint8_t mode;      // HeldMode (held_locks.h): 0 mutex, 1 read (rwlock), 2 write (rwlock)
  uint8_t reserved[7];
};

struct HeldLocksRecord {
  uint32_t flags;  // kLocksKnown
  uint32_t total;  // locks held in all (may exceed kMaxRecordedLocks)
  HeldLockRecord locks[kMaxRecordedLocks];  // min(total, kMaxRecordedLocks) used
};

struct RaceRecord {
  AccessRecord current;   // the access that hit the watchpoint (trap)
  AccessRecord previous;  // the sampled access that was being watched
  uint64_t watch_address; // the watched bytes
  uint32_t watch_size;
  uint32_t flags;         // kRaceValueChanged, kRaceWriterFound (0 for a watchpoint trap)
  uint64_t value_at_sample;  // up to 8 bytes at the watched address when sampled
  uint64_t value_at_trap;    // and right after the conflicting access
  // Added after the first release (a reader accepts the shorter record without
  // these, as if zero: locks unknown). Keep new fields at the end.
  HeldLocksRecord current_locks;   // what the trapping thread held at the trap
  HeldLocksRecord previous_locks;  // what the sampling thread held at the sample
};

// RaceRecord::flags. kRaceValueChanged: found by value-change sampling
// (preload/value_change.cc): `previous` is the sampled access, during whose stall
// the bytes changed from value_at_sample to value_at_trap; `current` is the writer
// when kRaceWriterFound, else only its address and size are known (pc 0, thread
// unknown).
constexpr uint32_t kRaceValueChanged = 1;
constexpr uint32_t kRaceWriterFound = 2;
// AccessRecord::thread_uid of a writer that could not be identified.
constexpr uint32_t kUnknownThreadUid = 0xffffffffu;

// The size of a RaceRecord written before the held-lock snapshots existed.
constexpr uint32_t kRaceRecordSizeV1 = static_cast<uint32_t>(offsetof(RaceRecord, current_locks));

// A race of an already recorded PC pair repeated (preload/signal/watchpoint_trap.cc):
// `repeats` is the running total of race traps of the unordered pair
// {current_pc, previous_pc} that were not written as a RaceRecord of their own.
// The total only grows, so the largest one in the stream is the latest; a reader
// adds it to the count of the race recorded with that PC pair.
struct RaceSeenRecord {
  uint64_t current_pc;   // the pcs of the RaceRecord first written for the pair
  uint64_t previous_pc;
  uint64_t repeats;
};

// ---- Lock-order inversions and pthread misuse (found by interception) ----

// One edge of the lock-order graph: a thread acquired `acquired` while it held
// `held`. The stack is where that happened the first time the edge was seen
// (frames[0] is the call site of the lock call).
struct LockEdgeRecord {
  uint64_t held;       // lock address (mutex or rwlock) already held
  uint64_t acquired;   // lock address acquired while holding it
  uint64_t held_pc;    // call site where the thread had acquired `held` (0: unknown)
  uint32_t thread_uid;
  uint32_t os_tid;
  StackRecord stack;
};

constexpr int kMaxCycleEdges = 8;

// A cycle in the lock-order graph: edges[i].acquired == edges[i+1].held, and the
// last edge's `acquired` is the first edge's `held`.
struct LockCycleRecord {
  uint32_t edge_count;  // edges used (1..kMaxCycleEdges)
  uint32_t flags;       // bit 0 (kCycleTruncated): the cycle was longer; the rest is left out
  LockEdgeRecord edges[kMaxCycleEdges];
};
constexpr uint32_t kCycleTruncated = 1;

enum class MisuseKind : uint32_t {
  kUnlockOfUnlocked = 1,    // unlock of a mutex nobody holds
  kUnlockByNonOwner = 2,    // unlock of a mutex another thread holds
  kDestroyOfLocked = 3,     // pthread_mutex_destroy of a locked mutex
  kCondWaitUnheld = 4,      // pthread_cond_*wait with a mutex the thread does not hold
  kSelfDeadlock = 5,        // lock of a non-recursive mutex the thread already holds
  kInvalidMutex = 6,        // a mutex call on memory that is no initialized mutex (EINVAL)
  kRwlockUnlockUnheld = 7,  // pthread_rwlock_unlock by a thread that holds no lock on it
  kDestroyOfLockedRwlock = 8,     // pthread_rwlock_destroy of a held rwlock
  kDestroyOfBusyBarrier = 9,      // pthread_barrier_destroy while threads wait on it
  kDestroyOfBusySemaphore = 10,   // sem_destroy while threads wait on it
  kDestroyOfBusyCondVar = 11,     // pthread_cond_destroy while threads wait on it
  kCondWaitTwoMutexes = 12,       // a condition waited on with two different mutexes at once
  kThreadExitHoldingLock = 13,    // a thread exits while it holds a mutex
  kBarrierInitZero = 14,          // pthread_barrier_init with a count of 0
  kBarrierReinitInUse = 15,       // pthread_barrier_init of a barrier threads wait on
  kSemInitInUse = 16,             // sem_init of a semaphore threads wait on
  kAnnotatedUnlockUnheld = 17,    // AnnotateRWLockReleased of a lock the thread does not hold
};
constexpr uint32_t kMaxMisuseKind = 17;

// What kind of object a MisuseRecord's `mutex` is.
enum class MisuseObject : uint32_t {
  kMutex = 0, kRwlock = 1, kSpinLock = 2, kCondVar = 3, kBarrier = 4, kSemaphore = 5, kAnnotatedLock = 6,
};

constexpr uint32_t kMisuseHasResult = 1;  // MisuseRecord::flags: `result` is what the call returned

struct MisuseRecord {
  uint32_t kind;        // MisuseKind
  uint32_t thread_uid;  // the thread making the call
  uint32_t os_tid;
  uint32_t owner_tid;   // who holds the mutex according to libc (0: nobody or unknown)
  uint64_t mutex;       // address of the mutex (or of the object `object` names)
  uint64_t earlier_pc;  // kSelfDeadlock, kThreadExitHoldingLock: where this thread acquired it (0: unknown)
  StackRecord stack;    // the offending call (frames[0] is its call site)
  // Appended later: a record of an older writer ends here (kMisuseRecordV1Size
  // bytes); the reader zero-fills what follows (a mutex, result unknown).
  uint32_t object;      // MisuseObject
  uint32_t flags;       // kMisuseHasResult
  int32_t result;       // the call's return value: 0 or an errno value (EPERM, EINVAL, ...)
  uint32_t lock_count;  // kThreadExitHoldingLock: mutexes the thread held at its exit
  uint64_t with_mutex;  // kCondWaitTwoMutexes (`mutex` is the condition): the mutex this thread waits with
  uint64_t other_mutex; // kCondWaitTwoMutexes: the mutex another thread waits with at the same time
};
constexpr uint32_t kMisuseRecordV1Size = static_cast<uint32_t>(offsetof(MisuseRecord, object));

}  // namespace racetrap
