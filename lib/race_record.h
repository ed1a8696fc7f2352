// race_record.h — the raw report stream: what the preload appends while the
// program runs (with write(2), from signal handlers) and what `racetrap report`
// and the exit-time renderer read back. Plain fixed-size data, no pointers.
//
// File: RawFileHeader, then chunks, each ChunkHeader + `length` payload bytes.
// A chunk is written with one write(2) on an O_APPEND descriptor, so a crash or
// SIGKILL leaves every finished chunk readable; a torn last chunk is ignored.
#pragma once

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
};

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

struct RaceRecord {
  AccessRecord current;   // the access that hit the watchpoint (trap)
  AccessRecord previous;  // the sampled access that was being watched
  uint64_t watch_address; // the watched bytes
  uint32_t watch_size;
  uint32_t flags;         // reserved
  uint64_t value_at_sample;  // up to 8 bytes at the watched address when sampled
  uint64_t value_at_trap;    // and right after the conflicting access
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
};

struct MisuseRecord {
  uint32_t kind;        // MisuseKind
  uint32_t thread_uid;  // the thread making the call
  uint32_t os_tid;
  uint32_t owner_tid;   // who holds the mutex according to libc (0: nobody or unknown)
  uint64_t mutex;       // address of the mutex
  uint64_t earlier_pc;  // kSelfDeadlock: where this thread acquired it before (0: unknown)
  StackRecord stack;    // the offending call (frames[0] is its call site)
};

}  // namespace racetrap
