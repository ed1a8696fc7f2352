// raw_log_test.cc — read_raw_log on hand-written raw streams, broken ones and garbage.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>

#include "race_record.h"
#include "record_builders.h"
#include "raw_log_reader.h"

namespace racetrap {
namespace {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "racetrap_rawlog_XXXXXX").string();
    char* made = mkdtemp(tmpl.data());
    if (made != nullptr) path_ = made;
  }
  ~TempDir() {
    if (!path_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void write_file(const std::string& path, const std::string& bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path;
  ASSERT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
  std::fclose(f);
}

template <typename T>
void append_pod(std::string* out, const T& value) {
  out->append(reinterpret_cast<const char*>(&value), sizeof value);
}

std::string header_bytes(uint32_t pid, uint32_t version = kRawVersion, const char* magic = kRawMagic) {
  RawFileHeader h;
  std::memset(&h, 0, sizeof h);
  std::memcpy(h.magic, magic, sizeof h.magic);
  h.version = version;
  h.pid = pid;
  std::string out;
  append_pod(&out, h);
  return out;
}

void append_chunk(std::string* out, ChunkType type, const void* payload, uint32_t length) {
  ChunkHeader c{static_cast<uint32_t>(type), length};
  append_pod(out, c);
  out->append(static_cast<const char*>(payload), length);
}

using testing::make_thread;

RaceRecord make_race(uint64_t seed) {
  RaceRecord r;
  std::memset(&r, 0, sizeof r);
  r.current.pc = 0x1000 + seed;
  r.current.address = 0x7ffd00000000 + seed;
  r.current.size = 8;
  r.current.kind = 2;
  r.current.atomic = 1;
  r.current.thread_uid = 2;
  r.current.os_tid = 5678;
  r.current.stack.frame_count = 3;
  for (int i = 0; i < 3; ++i) r.current.stack.frames[i] = 0x1000 + seed + 16 * i;
  r.previous.pc = 0x2000 + seed;
  r.previous.address = 0x7ffd00000004 + seed;
  r.previous.size = 4;
  r.previous.kind = 1;
  r.previous.thread_uid = 1;
  r.previous.os_tid = 5677;
  r.previous.stack.frame_count = kMaxFrames;
  for (int i = 0; i < kMaxFrames; ++i) r.previous.stack.frames[i] = 0x2000 + seed + i;
  r.watch_address = 0x7ffd00000000 + seed;
  r.watch_size = 8;
  r.value_at_sample = 0x1122334455667788ULL + seed;
  r.value_at_trap = 0x8877665544332211ULL + seed;
  return r;
}

const char kMaps1[] = "00400000-00401000 r-xp 00000000 08:01 1 /old\n";
const char kMaps2[] =
    "55d0c0000000-55d0c0001000 r-xp 00000000 08:01 42 /usr/bin/racy_counter\n"
    "7f0000000000-7f0000100000 r-xp 00000000 08:01 43 /usr/lib/x86_64-linux-gnu/libc.so.6\n";

TEST(RawLogTest, ReadsEveryField) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  std::string bytes = header_bytes(1234);
  append_chunk(&bytes, ChunkType::kMaps, kMaps1, sizeof kMaps1 - 1);
  ThreadRecord t0 = make_thread(0, 0, 5676, "racy_counter", {});
  ThreadRecord t1 = make_thread(1, 0, 5677, "worker-1", {0xaaa1, 0xaaa2});
  append_chunk(&bytes, ChunkType::kThread, &t0, sizeof t0);
  append_chunk(&bytes, ChunkType::kThread, &t1, sizeof t1);
  RaceRecord races[3] = {make_race(0), make_race(1), make_race(2)};
  append_chunk(&bytes, ChunkType::kRace, &races[0], sizeof races[0]);
  uint32_t unknown_payload[3] = {1, 2, 3};
  append_chunk(&bytes, static_cast<ChunkType>(99), unknown_payload, sizeof unknown_payload);
  append_chunk(&bytes, ChunkType::kRace, &races[1], sizeof races[1]);
  append_chunk(&bytes, ChunkType::kMaps, kMaps2, sizeof kMaps2 - 1);
  append_chunk(&bytes, ChunkType::kRace, &races[2], sizeof races[2]);
  // A torn last chunk: the header says a whole RaceRecord, half of it is there.
  RaceRecord torn = make_race(3);
  std::string torn_chunk;
  append_chunk(&torn_chunk, ChunkType::kRace, &torn, sizeof torn);
  bytes += torn_chunk.substr(0, torn_chunk.size() / 2);
  write_file(dir.file("race.raw"), bytes);

  std::string error = "stale";
  std::optional<RawLog> log = read_raw_log(dir.file("race.raw"), &error);
  ASSERT_TRUE(log.has_value()) << error;
  EXPECT_EQ(error, "");
  EXPECT_EQ(log->pid, 1234u);
  EXPECT_EQ(log->maps, kMaps2);
  EXPECT_TRUE(log->truncated);

  ASSERT_EQ(log->threads.size(), 2u);
  EXPECT_EQ(log->threads[0].uid, 0u);
  EXPECT_EQ(log->threads[0].parent_uid, 0u);
  EXPECT_EQ(log->threads[0].os_tid, 5676u);
  EXPECT_STREQ(log->threads[0].name, "racy_counter");
  EXPECT_EQ(log->threads[0].creation.frame_count, 0u);
  EXPECT_EQ(log->threads[1].uid, 1u);
  EXPECT_EQ(log->threads[1].parent_uid, 0u);
  EXPECT_EQ(log->threads[1].os_tid, 5677u);
  EXPECT_STREQ(log->threads[1].name, "worker-1");
  ASSERT_EQ(log->threads[1].creation.frame_count, 2u);
  EXPECT_EQ(log->threads[1].creation.frames[0], 0xaaa1u);
  EXPECT_EQ(log->threads[1].creation.frames[1], 0xaaa2u);

  ASSERT_EQ(log->races.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    const RaceRecord& got = log->races[i];
    const RaceRecord& want = races[i];
    EXPECT_EQ(got.current.pc, want.current.pc);
    EXPECT_EQ(got.current.address, want.current.address);
    EXPECT_EQ(got.current.size, 8u);
    EXPECT_EQ(got.current.kind, 2);
    EXPECT_EQ(got.current.atomic, 1);
    EXPECT_EQ(got.current.thread_uid, 2u);
    EXPECT_EQ(got.current.os_tid, 5678u);
    ASSERT_EQ(got.current.stack.frame_count, 3u);
    for (int f = 0; f < 3; ++f) EXPECT_EQ(got.current.stack.frames[f], want.current.stack.frames[f]);
    EXPECT_EQ(got.previous.pc, want.previous.pc);
    EXPECT_EQ(got.previous.address, want.previous.address);
    EXPECT_EQ(got.previous.size, 4u);
    EXPECT_EQ(got.previous.kind, 1);
    EXPECT_EQ(got.previous.atomic, 0);
    EXPECT_EQ(got.previous.thread_uid, 1u);
    EXPECT_EQ(got.previous.os_tid, 5677u);
    ASSERT_EQ(got.previous.stack.frame_count, static_cast<uint32_t>(kMaxFrames));
    for (int f = 0; f < kMaxFrames; ++f) {
      EXPECT_EQ(got.previous.stack.frames[f], want.previous.stack.frames[f]);
    }
    EXPECT_EQ(got.watch_address, want.watch_address);
    EXPECT_EQ(got.watch_size, 8u);
    EXPECT_EQ(got.value_at_sample, want.value_at_sample);
    EXPECT_EQ(got.value_at_trap, want.value_at_trap);
    EXPECT_EQ(std::memcmp(&got, &want, sizeof got), 0);
  }
}

TEST(RawLogTest, CompleteFileIsNotTruncated) {
  TempDir dir;
  std::string bytes = header_bytes(7);
  RaceRecord race = make_race(0);
  append_chunk(&bytes, ChunkType::kRace, &race, sizeof race);
  write_file(dir.file("ok.raw"), bytes);
  std::string error;
  std::optional<RawLog> log = read_raw_log(dir.file("ok.raw"), &error);
  ASSERT_TRUE(log.has_value()) << error;
  EXPECT_FALSE(log->truncated);
  EXPECT_EQ(log->races.size(), 1u);
  EXPECT_TRUE(log->maps.empty());
}

TEST(RawLogTest, HeaderOnlyIsAnEmptyLog) {
  TempDir dir;
  write_file(dir.file("empty.raw"), header_bytes(99));
  std::string error;
  std::optional<RawLog> log = read_raw_log(dir.file("empty.raw"), &error);
  ASSERT_TRUE(log.has_value()) << error;
  EXPECT_EQ(log->pid, 99u);
  EXPECT_FALSE(log->truncated);
  EXPECT_TRUE(log->races.empty());
  EXPECT_TRUE(log->threads.empty());
}

TEST(RawLogTest, TornChunkHeaderIsTruncated) {
  TempDir dir;
  std::string bytes = header_bytes(7);
  RaceRecord race = make_race(0);
  append_chunk(&bytes, ChunkType::kRace, &race, sizeof race);
  bytes += std::string(3, '\x03');  // 3 of the 8 bytes of a chunk header
  write_file(dir.file("torn.raw"), bytes);
  std::string error;
  std::optional<RawLog> log = read_raw_log(dir.file("torn.raw"), &error);
  ASSERT_TRUE(log.has_value()) << error;
  EXPECT_TRUE(log->truncated);
  EXPECT_EQ(log->races.size(), 1u);
}

TEST(RawLogTest, WrongSizeRecordsAreSkipped) {
  TempDir dir;
  std::string bytes = header_bytes(7);
  RaceRecord race = make_race(0);
  ThreadRecord thread = make_thread(1, 0, 10, "", {});
  append_chunk(&bytes, ChunkType::kRace, &race, sizeof race - 8);        // short
  append_chunk(&bytes, ChunkType::kThread, &thread, sizeof thread - 1);  // short
  std::string too_long(sizeof race + 16, 'x');
  append_chunk(&bytes, ChunkType::kRace, too_long.data(), static_cast<uint32_t>(too_long.size()));
  append_chunk(&bytes, ChunkType::kRace, &race, sizeof race);  // a good one after them
  write_file(dir.file("bad.raw"), bytes);
  std::string error;
  std::optional<RawLog> log = read_raw_log(dir.file("bad.raw"), &error);
  ASSERT_TRUE(log.has_value()) << error;
  EXPECT_FALSE(log->truncated);
  ASSERT_EQ(log->races.size(), 1u);
  EXPECT_EQ(log->races[0].current.pc, race.current.pc);
  EXPECT_TRUE(log->threads.empty());
  EXPECT_NE(error.find("skipped 3 malformed"), std::string::npos) << error;
}

TEST(RawLogTest, ClampsFrameCountAndTerminatesName) {
  TempDir dir;
  std::string bytes = header_bytes(7);
  RaceRecord race = make_race(0);
  race.current.stack.frame_count = 1000;
  ThreadRecord thread = make_thread(1, 0, 10, "", {});
  std::memset(thread.name, 'n', sizeof thread.name);  // no terminator
  thread.creation.frame_count = 0xffffffffu;
  append_chunk(&bytes, ChunkType::kRace, &race, sizeof race);
  append_chunk(&bytes, ChunkType::kThread, &thread, sizeof thread);
  write_file(dir.file("clamp.raw"), bytes);
  std::string error;
  std::optional<RawLog> log = read_raw_log(dir.file("clamp.raw"), &error);
  ASSERT_TRUE(log.has_value()) << error;
  ASSERT_EQ(log->races.size(), 1u);
  EXPECT_EQ(log->races[0].current.stack.frame_count, static_cast<uint32_t>(kMaxFrames));
  ASSERT_EQ(log->threads.size(), 1u);
  EXPECT_EQ(log->threads[0].creation.frame_count, static_cast<uint32_t>(kMaxFrames));
  EXPECT_EQ(strnlen(log->threads[0].name, sizeof log->threads[0].name), sizeof log->threads[0].name - 1);
}

TEST(RawLogTest, BadMagicIsAnError) {
  TempDir dir;
  write_file(dir.file("magic.raw"), header_bytes(1, kRawVersion, "NOTRAWXX"));
  std::string error;
  EXPECT_FALSE(read_raw_log(dir.file("magic.raw"), &error).has_value());
  EXPECT_NE(error.find(dir.file("magic.raw")), std::string::npos) << error;
  EXPECT_NE(error.find("magic"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
}

TEST(RawLogTest, WrongVersionIsAnError) {
  TempDir dir;
  write_file(dir.file("version.raw"), header_bytes(1, kRawVersion + 1));
  std::string error;
  EXPECT_FALSE(read_raw_log(dir.file("version.raw"), &error).has_value());
  EXPECT_NE(error.find(dir.file("version.raw")), std::string::npos) << error;
  EXPECT_NE(error.find("version"), std::string::npos) << error;
}

TEST(RawLogTest, ShortHeaderIsAnError) {
  TempDir dir;
  write_file(dir.file("short.raw"), std::string(kRawMagic, 8));
  std::string error;
  EXPECT_FALSE(read_raw_log(dir.file("short.raw"), &error).has_value());
  EXPECT_NE(error.find(dir.file("short.raw")), std::string::npos) << error;
}

TEST(RawLogTest, MissingFileNamesThePath) {
  TempDir dir;
  std::string path = dir.file("does-not-exist.raw");
  std::string error;
  EXPECT_FALSE(read_raw_log(path, &error).has_value());
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  // A null error pointer is allowed.
  EXPECT_FALSE(read_raw_log(path, nullptr).has_value());
}

TEST(RawLogTest, DirectoryIsAnErrorNotACrash) {
  TempDir dir;
  std::string error;
  EXPECT_FALSE(read_raw_log(dir.path(), &error).has_value());
  EXPECT_FALSE(error.empty());
}

TEST(RawLogTest, RandomGarbageNeverCrashes) {
  TempDir dir;
  std::mt19937_64 rng(12345);
  std::string path = dir.file("garbage.raw");
  for (int round = 0; round < 400; ++round) {
    std::string bytes;
    size_t length = rng() % 4096;
    if (round % 2 == 0) {
      // Valid header, then garbage or a mangled chunk stream: exercises the chunk loop.
      bytes = header_bytes(static_cast<uint32_t>(rng()));
      while (bytes.size() < length) {
        uint32_t type = 1 + rng() % 4;
        uint32_t len = (rng() % 3 == 0) ? static_cast<uint32_t>(rng())
                       : type == 2      ? sizeof(ThreadRecord)
                       : type == 3      ? sizeof(RaceRecord)
                                        : static_cast<uint32_t>(rng() % 300);
        ChunkHeader c{type, len};
        append_pod(&bytes, c);
        size_t body = std::min<size_t>(len, rng() % 1500);
        for (size_t i = 0; i < body; ++i) bytes.push_back(static_cast<char>(rng()));
      }
    } else {
      for (size_t i = 0; i < length; ++i) bytes.push_back(static_cast<char>(rng()));
      if (round % 4 == 1 && bytes.size() >= sizeof(RawFileHeader)) {
        std::memcpy(bytes.data(), kRawMagic, sizeof kRawMagic);
      }
    }
    write_file(path, bytes);
    std::string error;
    std::optional<RawLog> log = read_raw_log(path, &error);
    if (log) {
      for (const RaceRecord& r : log->races) {
        EXPECT_LE(r.current.stack.frame_count, static_cast<uint32_t>(kMaxFrames));
        EXPECT_LE(r.previous.stack.frame_count, static_cast<uint32_t>(kMaxFrames));
      }
      for (const ThreadRecord& t : log->threads) {
        EXPECT_LE(t.creation.frame_count, static_cast<uint32_t>(kMaxFrames));
      }
    } else {
      EXPECT_FALSE(error.empty());
    }
  }
}

// A RaceRecord of the first release (no held-lock snapshots) is still read, with
// the fields it lacks zero: locks unknown.
TEST(RawLogTest, FirstReleaseRaceRecordIsZeroFilled) {
  TempDir dir;
  std::string bytes = header_bytes(7);
  RaceRecord old = make_race(5);
  std::memset(reinterpret_cast<char*>(&old) + kRaceRecordSizeV1, 0x5a, sizeof old - kRaceRecordSizeV1);
  append_chunk(&bytes, ChunkType::kRace, &old, kRaceRecordSizeV1);
  RaceRecord now = make_race(6);
  now.current_locks.flags = kLocksKnown;
  now.current_locks.total = 1;
  now.current_locks.locks[0] = HeldLockRecord{0x4000, 0x1234, 2, {}};
  now.previous_locks.flags = kLocksKnown;  // known, none held
  append_chunk(&bytes, ChunkType::kRace, &now, sizeof now);
  write_file(dir.file("old.raw"), bytes);
  std::string error;
  std::optional<RawLog> log = read_raw_log(dir.file("old.raw"), &error);
  ASSERT_TRUE(log.has_value()) << error;
  EXPECT_EQ(error, "");
  ASSERT_EQ(log->races.size(), 2u);
  EXPECT_EQ(std::memcmp(&log->races[0], &old, kRaceRecordSizeV1), 0);
  const HeldLocksRecord zero{};
  EXPECT_EQ(std::memcmp(&log->races[0].current_locks, &zero, sizeof zero), 0);
  EXPECT_EQ(std::memcmp(&log->races[0].previous_locks, &zero, sizeof zero), 0);
  EXPECT_EQ(std::memcmp(&log->races[1], &now, sizeof now), 0);
}

TEST(RawLogTest, HeldLocksAreSanitized) {
  TempDir dir;
  std::string bytes = header_bytes(7);
  RaceRecord race = make_race(0);
  race.current_locks.flags = kLocksKnown | 0xf0;  // unknown bits are dropped
  race.current_locks.total = 0;                   // fewer than it keeps: raised
  race.current_locks.locks[0] = HeldLockRecord{0x4000, 0x10, 9, {}};  // bad mode: a mutex
  race.current_locks.locks[1] = HeldLockRecord{0x5000, 0x20, 1, {}};
  race.current_locks.locks[3] = HeldLockRecord{0x6000, 0x30, 1, {}};  // after a gap: dropped
  race.previous_locks.flags = 0;  // unknown: everything else cleared
  race.previous_locks.total = 3;
  race.previous_locks.locks[0].address = 0x7000;
  append_chunk(&bytes, ChunkType::kRace, &race, sizeof race);
  write_file(dir.file("locks.raw"), bytes);
  std::string error;
  std::optional<RawLog> log = read_raw_log(dir.file("locks.raw"), &error);
  ASSERT_TRUE(log.has_value()) << error;
  ASSERT_EQ(log->races.size(), 1u);
  const HeldLocksRecord& cur = log->races[0].current_locks;
  EXPECT_EQ(cur.flags, kLocksKnown);
  EXPECT_EQ(cur.total, 2u);
  EXPECT_EQ(cur.locks[0].address, 0x4000u);
  EXPECT_EQ(cur.locks[0].mode, 0);
  EXPECT_EQ(cur.locks[1].address, 0x5000u);
  EXPECT_EQ(cur.locks[1].mode, 1);
  EXPECT_EQ(cur.locks[3].address, 0u);
  const HeldLocksRecord zero{};
  EXPECT_EQ(std::memcmp(&log->races[0].previous_locks, &zero, sizeof zero), 0);
}

TEST(RawLogTest, ReadsRaceSeenChunks) {
  TempDir dir;
  std::string bytes = header_bytes(7);
  RaceSeenRecord a{0x10, 0x20, 4}, b{0x20, 0x10, 9};
  append_chunk(&bytes, ChunkType::kRaceSeen, &a, sizeof a);
  append_chunk(&bytes, ChunkType::kRaceSeen, &b, sizeof b);
  append_chunk(&bytes, ChunkType::kRaceSeen, &b, sizeof b - 1);  // wrong size: skipped
  write_file(dir.file("seen.raw"), bytes);
  std::string error;
  std::optional<RawLog> log = read_raw_log(dir.file("seen.raw"), &error);
  ASSERT_TRUE(log.has_value());
  EXPECT_NE(error.find("skipped 1 malformed"), std::string::npos) << error;
  ASSERT_EQ(log->race_seen.size(), 2u);
  EXPECT_EQ(log->race_seen[0].current_pc, 0x10u);
  EXPECT_EQ(log->race_seen[0].previous_pc, 0x20u);
  EXPECT_EQ(log->race_seen[0].repeats, 4u);
  EXPECT_EQ(log->race_seen[1].repeats, 9u);
}

}  // namespace
}  // namespace racetrap
