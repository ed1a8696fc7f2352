// raw_log_reader.h — reads a raw report stream (race_record.h) back into memory.
// Not signal-safe. Tolerates a torn last chunk (the writer was killed mid-write).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "race_record.h"

namespace racetrap {

struct RawLog {
  uint32_t pid = 0;
  std::string maps;  // the last /proc/self/maps snapshot in the stream
  std::vector<ThreadRecord> threads;
  std::vector<RaceRecord> races;
  std::vector<LockCycleRecord> lock_cycles;  // lock-order inversions
  std::vector<MisuseRecord> misuses;         // pthread API misuse
  std::vector<RaceSeenRecord> race_seen;     // repeat totals of recorded races, as written
                                             // (race_report_model.cc folds them into counts)
  std::vector<RaceSeenRecord> race_withdrawn;  // PC pairs whose races are left out of the report
  bool truncated = false;  // a torn chunk was ignored at the end
};

// nullopt with *error set (one line, naming the path) when the file is missing
// or not a raw stream (bad magic, other version). On success *error is cleared,
// or holds a one-line warning when chunks with a wrong record size were skipped.
// Unknown chunk types are skipped silently; frame counts are clamped to
// kMaxFrames, held-lock totals to at least the locks kept, and thread names
// NUL-terminated, so records are safe to use. A RaceRecord of the first release
// (kRaceRecordSizeV1 bytes, before the held-lock snapshots) is accepted with the
// missing fields zero (locks unknown).
// `error` may be null.
std::optional<RawLog> read_raw_log(const std::string& path, std::string* error);

}  // namespace racetrap
