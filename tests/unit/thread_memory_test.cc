// thread_memory_test.cc — where raced-on memory is, from the thread ranges in the
// raw stream: "stack of thread Tn", "TLS of thread Tn", the main thread's stack and
// TLS, a stack glibc handed to a later thread, anonymous memory as heap (or as
// heap-or-stack when it may be a thread stack with no record); ThreadRecords of the
// older, shorter size; the location in the text, JSON (round trip) and SARIF.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "json_text.h"
#include "json_report.h"
#include "race_record.h"
#include "race_report_model.h"
#include "raw_log_reader.h"
#include "record_builders.h"
#include "sarif_report.h"
#include "symbolizer.h"
#include "text_report.h"

namespace racetrap {
namespace {

using testing::make_stack;
using testing::make_thread;

ThreadRecord with_ranges(ThreadRecord t, uint64_t stack_begin, uint64_t stack_end, uint64_t tls_begin,
                         uint64_t tls_end) {
  t.stack_begin = stack_begin;
  t.stack_end = stack_end;
  t.tls_begin = tls_begin;
  t.tls_end = tls_end;
  return t;
}

// A write by `current_uid` racing with an earlier write by `previous_uid`; the
// pcs are made from `address` so every race has stacks of its own.
RaceRecord race_at(uint64_t address, uint32_t current_uid, uint32_t previous_uid) {
  RaceRecord r;
  std::memset(&r, 0, sizeof r);
  for (AccessRecord* a : {&r.current, &r.previous}) {
    a->address = address;
    a->size = 8;
    a->kind = 2;  // write
  }
  r.current.thread_uid = current_uid;
  r.current.os_tid = 100 + current_uid;
  r.current.stack = make_stack({address});
  r.current.pc = address;
  r.previous.thread_uid = previous_uid;
  r.previous.os_tid = 100 + previous_uid;
  r.previous.stack = make_stack({address + 1});
  r.previous.pc = address + 1;
  r.watch_address = address;
  r.watch_size = 8;
  return r;
}

// The memory of a process with threads T0 (main), T1, T2 and T3, where T3 got the
// stack T1 had before it exited (glibc's stack cache).
RawLog process_log() {
  RawLog log;
  log.pid = 42;
  log.maps =
      "1000-2000 rw-p 00000000 00:00 0 [heap]\n"
      "10000-11000 ---p 00000000 00:00 0 \n"    // guard page of the block below
      "11000-20000 rw-p 00000000 00:00 0 \n"    // T1's stack, then T3's
      "30000-40000 rw-p 00000000 00:00 0 \n"    // malloc'ed big block; the main thread's TLS
      "50000-51000 ---p 00000000 00:00 0 \n"
      "51000-60000 rw-p 00000000 00:00 0 \n"    // the stack of a thread with no record
      "7ff00000-7ff10000 rw-p 00000000 00:00 0 [stack]\n";
  log.threads.push_back(with_ranges(make_thread(0, 0, 100, "", {}), 0x7ff00000, 0x7ff10000, 0x38000, 0x39000));
  log.threads.push_back(with_ranges(make_thread(1, 0, 101, "owner", {0x500}), 0x11000, 0x20000, 0x1f000, 0x20000));
  log.threads.push_back(with_ranges(make_thread(2, 0, 102, "", {0x501}), 0x61000, 0x70000, 0x6f000, 0x70000));
  log.threads.push_back(with_ranges(make_thread(3, 0, 103, "", {0x502}), 0x11000, 0x20000, 0x1f000, 0x20000));
  return log;
}

struct Expected {
  uint64_t address;
  uint32_t current, previous;
  const char* kind;
  bool has_thread;
  uint32_t thread;
  const char* text;  // the "Location is" line, "" for none
};

const Expected kCases[] = {
    // In T1's (and later T3's) stack: T1 made one of the accesses, so it is T1's.
    {0x12000, 1, 2, "stack", true, 1, "  Location is stack of thread T1.\n"},
    {0x12008, 2, 3, "stack", true, 3, "  Location is stack of thread T3.\n"},
    // Neither accessor's: the latest thread with that stack.
    {0x12010, 2, 4, "stack", true, 3, "  Location is stack of thread T3.\n"},
    // The TLS at the top of the stack block is TLS, not stack.
    {0x1f800, 2, 1, "tls", true, 1, "  Location is TLS of thread T1.\n"},
    {0x38010, 1, 2, "tls", true, 0, "  Location is TLS of main thread.\n"},
    {0x7ff08000, 1, 2, "stack", true, 0, "  Location is stack of main thread.\n"},
    // Anonymous memory that is no recorded thread's: heap, unless a guard page
    // below it says it may be the stack of a thread with no record.
    {0x35000, 1, 2, "heap", false, 0, "  Location is heap memory.\n"},
    {0x52000, 1, 2, "heap-or-stack", false, 0, "  Location is heap or thread stack memory (anonymous mapping).\n"},
    {0x1100, 1, 2, "heap", false, 0, "  Location is heap memory.\n"},
    {0x90000, 1, 2, "unknown", false, 0, ""},
};

class ThreadMemoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_ = process_log();
    for (const Expected& e : kCases) log_.races.push_back(race_at(e.address, e.current, e.previous));
    model_ = build_report_model(log_, no_symbols_);
    ASSERT_EQ(model_.races.size(), std::size(kCases));
  }

  Symbolizer no_symbols_{""};
  RawLog log_;
  ReportModel model_;
};

TEST_F(ThreadMemoryTest, LocatesStacksAndTlsOfThreads) {
  for (size_t i = 0; i < std::size(kCases); ++i) {
    const Expected& e = kCases[i];
    const MemoryLocation& l = model_.races[i].location;
    SCOPED_TRACE(::testing::Message() << "address 0x" << std::hex << e.address);
    EXPECT_EQ(l.kind, e.kind);
    EXPECT_EQ(l.has_thread, e.has_thread);
    EXPECT_EQ(l.thread_uid, e.thread);
  }
}

TEST_F(ThreadMemoryTest, TextSaysWhoseStackOrTls) {
  std::string text = render_text(model_);
  SCOPED_TRACE("report:\n" + text);
  size_t lines = 0;
  for (const Expected& e : kCases) {
    if (e.text[0] == '\0') continue;
    ++lines;
    // The line belongs to this race: it follows the race's current access.
    char access[64];
    std::snprintf(access, sizeof access, " at %#llx by", static_cast<unsigned long long>(e.address));
    size_t race = text.find(access);
    ASSERT_NE(race, std::string::npos) << e.address;
    size_t next = text.find("WARNING:", race);
    size_t at = text.find(e.text, race);
    EXPECT_NE(at, std::string::npos) << e.text;
    EXPECT_LT(at, next) << e.text;
  }
  size_t found = 0;
  for (size_t at = text.find("  Location is "); at != std::string::npos; at = text.find("  Location is ", at + 1))
    ++found;
  EXPECT_EQ(found, lines);
}

TEST_F(ThreadMemoryTest, JsonRoundTripKeepsTheThread) {
  std::string json = render_json_report(model_);
  std::string error;
  std::optional<ReportModel> back = parse_json_report(json, "test.json", &error);
  ASSERT_TRUE(back.has_value()) << error;
  EXPECT_EQ(*back, model_);
  // The main thread's uid 0 is written (it is not "no thread"); heap has none.
  JsonParse parsed = parse_json(json);
  ASSERT_TRUE(parsed.value.has_value()) << parsed.error;
  const Json& races = parsed.value->at("races");
  ASSERT_EQ(races.size(), std::size(kCases));
  for (size_t i = 0; i < races.size(); ++i) {
    const Json* loc = member(races[i], "location");
    ASSERT_NE(loc, nullptr);
    const Json* uid = member(*loc, "thread_uid");
    EXPECT_EQ(uid != nullptr, kCases[i].has_thread) << i;
    if (uid != nullptr) {
      EXPECT_EQ(uid->get<int64_t>(), static_cast<int64_t>(kCases[i].thread)) << i;
    }
  }
}

TEST_F(ThreadMemoryTest, SarifMemoryPropertyNamesTheThread) {
  JsonParse sarif = parse_json(render_sarif_report(model_, SarifOptions{}));
  ASSERT_TRUE(sarif.value.has_value()) << sarif.error;
  const Json& results = sarif.value->at("runs").at(0).at("results");
  ASSERT_EQ(results.size(), std::size(kCases));
  for (size_t i = 0; i < results.size(); ++i) {
    const Json* memory = member(results[i].at("properties"), "memory");
    ASSERT_NE(memory, nullptr) << i;
    EXPECT_EQ(memory->at("kind").get<std::string>(), kCases[i].kind) << i;
    const Json* uid = member(*memory, "threadUid");
    EXPECT_EQ(uid != nullptr, kCases[i].has_thread) << i;
    if (uid != nullptr) {
      EXPECT_EQ(uid->get<int64_t>(), static_cast<int64_t>(kCases[i].thread)) << i;
    }
  }
}

TEST(ThreadMemoryOldStream, WithoutRangesAnonymousMemoryStaysHeapOrStack) {
  RawLog log = process_log();
  for (ThreadRecord& t : log.threads) t = with_ranges(t, 0, 0, 0, 0);
  log.races.push_back(race_at(0x12000, 1, 2));
  log.races.push_back(race_at(0x35000, 1, 2));
  log.races.push_back(race_at(0x7ff08000, 1, 2));
  Symbolizer no_symbols("");
  ReportModel model = build_report_model(log, no_symbols);
  ASSERT_EQ(model.races.size(), 3u);
  EXPECT_EQ(model.races[0].location.kind, "heap-or-stack");
  EXPECT_FALSE(model.races[0].location.has_thread);
  EXPECT_EQ(model.races[1].location.kind, "heap-or-stack");
  EXPECT_EQ(model.races[2].location.kind, "stack");  // [stack] is the main thread's
  EXPECT_TRUE(model.races[2].location.has_thread);
  EXPECT_EQ(model.races[2].location.thread_uid, 0u);
}

// ---- The reader: ThreadRecords of the older size are zero-filled ----

class TempFile {
 public:
  TempFile() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "racetrap_threadrec_XXXXXX").string();
    int fd = mkstemp(tmpl.data());
    if (fd >= 0) {
      close(fd);
      path_ = tmpl;
    }
  }
  ~TempFile() {
    if (!path_.empty()) std::remove(path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void append_chunk(std::string* out, ChunkType type, const void* payload, uint32_t length) {
  ChunkHeader c{static_cast<uint32_t>(type), length};
  out->append(reinterpret_cast<const char*>(&c), sizeof c);
  out->append(static_cast<const char*>(payload), length);
}

TEST(ThreadRecordSize, RangesAreAppendedAfterTheFirstVersion) {
  EXPECT_EQ(sizeof(ThreadRecord), kThreadRecordV1Size + 4 * sizeof(uint64_t));
  EXPECT_EQ(kThreadRecordV1Size, 296u);  // what streams of the first writer hold
}

TEST(ThreadRecordSize, ReaderTakesOldAndNewRecordsAndRejectsOthers) {
  RawFileHeader h;
  std::memset(&h, 0, sizeof h);
  std::memcpy(h.magic, kRawMagic, sizeof h.magic);
  h.version = kRawVersion;
  h.pid = 7;
  std::string bytes(reinterpret_cast<const char*>(&h), sizeof h);
  ThreadRecord old_one = make_thread(1, 0, 11, "old", {0x10, 0x20});
  ThreadRecord new_one = with_ranges(make_thread(2, 1, 12, "new", {0x30}), 0x1000, 0x9000, 0x8000, 0x9000);
  append_chunk(&bytes, ChunkType::kThread, &old_one, kThreadRecordV1Size);  // an older writer's
  append_chunk(&bytes, ChunkType::kThread, &new_one, sizeof new_one);
  append_chunk(&bytes, ChunkType::kThread, &new_one, kThreadRecordV1Size + 8);  // neither size
  TempFile file;
  ASSERT_FALSE(file.path().empty());
  std::FILE* f = std::fopen(file.path().c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
  std::fclose(f);

  std::string error;
  std::optional<RawLog> log = read_raw_log(file.path(), &error);
  ASSERT_TRUE(log.has_value()) << error;
  EXPECT_NE(error.find("skipped 1 malformed chunk"), std::string::npos) << error;
  ASSERT_EQ(log->threads.size(), 2u);
  const ThreadRecord& a = log->threads[0];
  EXPECT_EQ(a.uid, 1u);
  EXPECT_EQ(a.os_tid, 11u);
  EXPECT_STREQ(a.name, "old");
  ASSERT_EQ(a.creation.frame_count, 2u);
  EXPECT_EQ(a.creation.frames[1], 0x20u);
  EXPECT_EQ(a.stack_begin, 0u);
  EXPECT_EQ(a.stack_end, 0u);
  EXPECT_EQ(a.tls_begin, 0u);
  EXPECT_EQ(a.tls_end, 0u);
  const ThreadRecord& b = log->threads[1];
  EXPECT_EQ(b.uid, 2u);
  EXPECT_EQ(b.stack_begin, 0x1000u);
  EXPECT_EQ(b.stack_end, 0x9000u);
  EXPECT_EQ(b.tls_begin, 0x8000u);
  EXPECT_EQ(b.tls_end, 0x9000u);
}

}  // namespace
}  // namespace racetrap
