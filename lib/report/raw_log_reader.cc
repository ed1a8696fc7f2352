// raw_log_reader.cc — reads a raw report stream (race_record.h) back into memory.
//
// The whole file is read into memory first, then parsed as a byte buffer with
// bounds checks everywhere: the input may be torn (writer killed mid-write) or
// arbitrary garbage (fuzzed), and neither may crash the reader.
#include "raw_log_reader.h"

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

namespace racetrap {
namespace {

static_assert(offsetof(ThreadRecord, stack_begin) == kThreadRecordV1Size,
              "the memory ranges are appended after the first version's fields");

// Reads the whole file at `path` into *out. False with *error set on failure.
bool read_whole_file(const std::string& path, std::string* out, std::string* error) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    int saved = errno;
    if (error != nullptr) *error = path + ": cannot open raw report: " + std::strerror(saved);
    return false;
  }
  out->clear();
  char buffer[1 << 16];
  for (;;) {
    size_t n = std::fread(buffer, 1, sizeof buffer, f);
    if (n > 0) out->append(buffer, n);
    if (n < sizeof buffer) break;
  }
  bool failed = std::ferror(f) != 0;
  int saved = errno;
  std::fclose(f);
  if (failed) {
    if (error != nullptr) *error = path + ": error reading raw report: " + std::strerror(saved);
    return false;
  }
  return true;
}

// Copies a fixed-size record out of an unaligned payload and makes its embedded
// counts safe to use (frame_count is clamped to kMaxFrames, names are terminated).
void sanitize(StackRecord& stack) {
  if (stack.frame_count > static_cast<uint32_t>(kMaxFrames)) stack.frame_count = kMaxFrames;
}

void sanitize(ThreadRecord& thread) {
  thread.name[sizeof thread.name - 1] = '\0';
  sanitize(thread.creation);
}

void sanitize(HeldLocksRecord& locks) {
  locks.flags &= kLocksKnown;
  if (locks.flags == 0) {
    locks = HeldLocksRecord{};
    return;
  }
  uint32_t kept = 0;
  while (kept < static_cast<uint32_t>(kMaxRecordedLocks) && locks.locks[kept].address != 0) ++kept;
  for (uint32_t i = kept; i < static_cast<uint32_t>(kMaxRecordedLocks); ++i) locks.locks[i] = HeldLockRecord{};
  for (uint32_t i = 0; i < kept; ++i)
    if (locks.locks[i].mode > 2) locks.locks[i].mode = 0;
  if (locks.total < kept) locks.total = kept;
}

void sanitize(RaceRecord& race) {
  sanitize(race.current.stack);
  sanitize(race.previous.stack);
  sanitize(race.current_locks);
  sanitize(race.previous_locks);
}

void sanitize(RaceSeenRecord&) {}

void sanitize(LockCycleRecord& cycle) {
  if (cycle.edge_count > static_cast<uint32_t>(kMaxCycleEdges)) cycle.edge_count = kMaxCycleEdges;
  for (LockEdgeRecord& e : cycle.edges) sanitize(e.stack);
}

void sanitize(MisuseRecord& misuse) { sanitize(misuse.stack); }

// A fixed-size record chunk: appended to `out` when the length is right.
template <typename Record>
void read_record(const char* payload, uint32_t length, std::vector<Record>* out, size_t* bad_chunks) {
  if (length != sizeof(Record)) {
    ++*bad_chunks;
    return;
  }
  Record record;
  std::memcpy(&record, payload, sizeof record);
  sanitize(record);
  out->push_back(record);
}

}  // namespace

std::optional<RawLog> read_raw_log(const std::string& path, std::string* error) {
  std::string data;
  if (!read_whole_file(path, &data, error)) return std::nullopt;

  RawFileHeader header;
  if (data.size() < sizeof header) {
    if (error != nullptr) {
      *error = path + ": not a racetrap raw report (file too short for the header: " +
               std::to_string(data.size()) + " bytes)";
    }
    return std::nullopt;
  }
  std::memcpy(&header, data.data(), sizeof header);
  if (std::memcmp(header.magic, kRawMagic, sizeof kRawMagic) != 0) {
    if (error != nullptr) *error = path + ": not a racetrap raw report (bad magic)";
    return std::nullopt;
  }
  if (header.version != kRawVersion) {
    if (error != nullptr) {
      *error = path + ": unsupported racetrap raw report version " +
               std::to_string(header.version) + " (expected " + std::to_string(kRawVersion) + ")";
    }
    return std::nullopt;
  }

  RawLog log;
  log.pid = header.pid;
  size_t bad_chunks = 0;
  size_t pos = sizeof header;
  const size_t size = data.size();
  while (pos < size) {
    if (size - pos < sizeof(ChunkHeader)) {
      log.truncated = true;  // torn chunk header
      break;
    }
    ChunkHeader chunk;
    std::memcpy(&chunk, data.data() + pos, sizeof chunk);
    pos += sizeof chunk;
    if (chunk.length > size - pos) {
      log.truncated = true;  // torn payload
      break;
    }
    const char* payload = data.data() + pos;
    pos += chunk.length;
    switch (static_cast<ChunkType>(chunk.type)) {
      case ChunkType::kMaps:
        log.maps.assign(payload, chunk.length);
        break;
      case ChunkType::kThread: {
        // An older writer's record lacks the memory ranges at the end: zero-filled.
        if (chunk.length != sizeof(ThreadRecord) && chunk.length != kThreadRecordV1Size) {
          ++bad_chunks;
          break;
        }
        ThreadRecord thread;
        std::memset(&thread, 0, sizeof thread);
        std::memcpy(&thread, payload, chunk.length);
        sanitize(thread);
        log.threads.push_back(thread);
        break;
      }
      case ChunkType::kRace: {
        // The current size, or the first release's (without the held locks).
        if (chunk.length != sizeof(RaceRecord) && chunk.length != kRaceRecordSizeV1) {
          ++bad_chunks;
          break;
        }
        RaceRecord race;
        std::memset(&race, 0, sizeof race);
        std::memcpy(&race, payload, chunk.length);
        sanitize(race);
        log.races.push_back(race);
        break;
      }
      case ChunkType::kLockCycle:
        read_record(payload, chunk.length, &log.lock_cycles, &bad_chunks);
        break;
      case ChunkType::kMisuse: {
        // The current size, or an older writer's (without object and result).
        if (chunk.length != sizeof(MisuseRecord) && chunk.length != kMisuseRecordV1Size) {
          ++bad_chunks;
          break;
        }
        MisuseRecord misuse;
        std::memset(&misuse, 0, sizeof misuse);
        std::memcpy(&misuse, payload, chunk.length);
        sanitize(misuse);
        log.misuses.push_back(misuse);
        break;
      }
      case ChunkType::kRaceSeen:
        read_record(payload, chunk.length, &log.race_seen, &bad_chunks);
        break;
      case ChunkType::kRaceWithdrawn:
        read_record(payload, chunk.length, &log.race_withdrawn, &bad_chunks);
        break;
      default:
        break;  // unknown chunk type from a newer writer: skip
    }
  }
  // RawLog has no field for the count of malformed chunks (the interface is fixed);
  // report it through *error without failing, so callers may print a warning.
  if (error != nullptr) {
    if (bad_chunks > 0) {
      *error = path + ": skipped " + std::to_string(bad_chunks) +
               " malformed chunk(s) with a wrong record size";
    } else {
      error->clear();
    }
  }
  return log;
}

}  // namespace racetrap
