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

}  // namespace racetrap
