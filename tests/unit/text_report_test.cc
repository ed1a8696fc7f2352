// text_report_test.cc — Symbolizer on this very test binary (via /proc/self/maps)
// and the shape of the rendered text report.
#include <dlfcn.h>
#include <unistd.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "memory_access.h"
#include "race_record.h"
#include "race_report_model.h"
#include "record_builders.h"
#include "raw_log_reader.h"
#include "symbolizer.h"
#include "text_report.h"

// Marker functions with external linkage in the global namespace, so their
// demangled names are exactly "name(args)". The k*Line constants are the line of
// the function's signature; the entry pc maps to it or to one of the next lines.

int g_sink = 0;
long g_lock_a[5] = {};  // stand-ins for two global mutexes: only their symbols matter
long g_lock_b[5] = {};

constexpr int kTestMarkerLine = __LINE__ + 1;
__attribute__((noinline)) int racetrap_test_marker(int x) {
  asm volatile("" ::: "memory");
  return x * 3 + g_sink;
}

constexpr int kWriteMarkerLine = __LINE__ + 1;
__attribute__((noinline)) void racetrap_write_marker() {
  asm volatile("" ::: "memory");
  g_sink = 1;
}

constexpr int kReadMarkerLine = __LINE__ + 1;
__attribute__((noinline)) int racetrap_read_marker() {
  asm volatile("" ::: "memory");
  return g_sink;
}

constexpr int kSpawnMarkerLine = __LINE__ + 1;
__attribute__((noinline)) void racetrap_spawn_marker() {
  asm volatile("" ::: "memory");
  g_sink = 2;
}

// Returns the address its call returns to: a return address in the caller.
__attribute__((noinline)) uint64_t racetrap_return_address() {
  asm volatile("" ::: "memory");
  return reinterpret_cast<uint64_t>(__builtin_extract_return_addr(__builtin_return_address(0)));
}

constexpr int kInlinedCallLine = __LINE__ + 3;
__attribute__((always_inline)) inline uint64_t racetrap_inlined_capture() {
  asm volatile("" ::: "memory");
  uint64_t ra = racetrap_return_address();
  asm volatile("" ::: "memory");
  return ra;
}

constexpr int kOuterCallLine = __LINE__ + 3;
__attribute__((noinline)) uint64_t racetrap_outer_with_inline() {
  asm volatile("" ::: "memory");
  uint64_t ra = racetrap_inlined_capture();
  asm volatile("" ::: "memory");
  return ra + static_cast<uint64_t>(g_sink) * 0;
}

namespace racetrap {
namespace {

uint64_t address_of(const void* p) { return reinterpret_cast<uint64_t>(p); }
template <typename F>
uint64_t fn_address(F* f) {
  return reinterpret_cast<uint64_t>(reinterpret_cast<void*>(f));
}

std::string read_self_maps() {
  std::ifstream in("/proc/self/maps");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string basename_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// "unit_tests" in the Meson build; read from /proc so a renamed binary still passes.
std::string self_exe_basename() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "unit_tests";
  buf[n] = '\0';
  return basename_of(buf);
}

std::string regex_escape(const std::string& text) {
  std::string escaped;
  for (char c : text) {
    if (std::strchr("()[]{}.*+?^$|\\", c) != nullptr) escaped += '\\';
    escaped += c;
  }
  return escaped;
}

uint64_t load_base_of(const void* p) {
  Dl_info info;
  if (dladdr(p, &info) == 0) return 0;
  return address_of(info.dli_fbase);
}

// ---------------------------------------------------------------------------
// Symbolizer

TEST(SymbolizerTest, NamesAFunctionInThisFile) {
  Symbolizer symbolizer(read_self_maps());
  uint64_t pc = fn_address(&racetrap_test_marker);
  std::vector<SourceFrame> frames = symbolizer.symbolize(pc, false);
  ASSERT_EQ(frames.size(), 1u);
  const SourceFrame& f = frames[0];
  EXPECT_EQ(f.pc, pc);
  EXPECT_EQ(f.function, "racetrap_test_marker(int)");
  EXPECT_TRUE(ends_with(f.file, "text_report_test.cc")) << f.file;
  EXPECT_EQ(f.file.find("/../"), std::string::npos) << f.file;
  EXPECT_GE(f.line, kTestMarkerLine);
  EXPECT_LE(f.line, kTestMarkerLine + 3);
  EXPECT_FALSE(f.inlined);
  EXPECT_EQ(basename_of(f.module), self_exe_basename());
  EXPECT_EQ(f.module_offset, pc - load_base_of(reinterpret_cast<void*>(pc)));
  EXPECT_EQ(racetrap_test_marker(1), 3 + g_sink);
}

TEST(SymbolizerTest, ReturnAddressMapsToTheCallLine) {
  Symbolizer symbolizer(read_self_maps());
  uint64_t ra = racetrap_return_address(); const int call_line = __LINE__;
  std::vector<SourceFrame> frames = symbolizer.symbolize(ra, true);
  ASSERT_FALSE(frames.empty());
  const SourceFrame& f = frames.back();
  EXPECT_EQ(f.pc, ra);
  EXPECT_EQ(f.function, "racetrap::(anonymous namespace)::SymbolizerTest_ReturnAddressMapsToTheCallLine_Test::TestBody()");
  EXPECT_TRUE(ends_with(f.file, "text_report_test.cc")) << f.file;
  EXPECT_EQ(f.line, call_line);
  EXPECT_EQ(f.module_offset, ra - load_base_of(reinterpret_cast<void*>(ra)));
}

TEST(SymbolizerTest, ExpandsInlinedFrames) {
  Symbolizer symbolizer(read_self_maps());
  uint64_t ra = racetrap_outer_with_inline();
  std::vector<SourceFrame> frames = symbolizer.symbolize(ra, true);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].function, "racetrap_inlined_capture()");
  EXPECT_TRUE(frames[0].inlined);
  EXPECT_TRUE(ends_with(frames[0].file, "text_report_test.cc")) << frames[0].file;
  EXPECT_EQ(frames[0].line, kInlinedCallLine);
  EXPECT_EQ(frames[1].function, "racetrap_outer_with_inline()");
  EXPECT_FALSE(frames[1].inlined);
  EXPECT_TRUE(ends_with(frames[1].file, "text_report_test.cc")) << frames[1].file;
  EXPECT_EQ(frames[1].line, kOuterCallLine);
  EXPECT_GT(frames[1].column, 0);
  for (const SourceFrame& f : frames) {
    EXPECT_EQ(f.pc, ra);
    EXPECT_EQ(basename_of(f.module), self_exe_basename());
  }
}

TEST(SymbolizerTest, LibcFunctionHasModule) {
  Symbolizer symbolizer(read_self_maps());
  uint64_t pc = fn_address(&getpid);  // not intercepted by sanitizers
  std::vector<SourceFrame> frames = symbolizer.symbolize(pc, false);
  ASSERT_FALSE(frames.empty());
  EXPECT_EQ(basename_of(frames.back().module).rfind("libc.so", 0), 0u) << frames.back().module;
  EXPECT_NE(frames.back().function.find("getpid"), std::string::npos) << frames.back().function;
}

TEST(SymbolizerTest, UnknownPcIsStillAFrame) {
  Symbolizer symbolizer(read_self_maps());
  for (bool ra : {false, true}) {
    std::vector<SourceFrame> frames = symbolizer.symbolize(0x10, ra);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].pc, 0x10u);
    EXPECT_TRUE(frames[0].function.empty());
    EXPECT_TRUE(frames[0].module.empty());
    EXPECT_TRUE(frames[0].file.empty());
  }
  std::vector<SourceFrame> zero = symbolizer.symbolize(0, true);
  ASSERT_EQ(zero.size(), 1u);
  EXPECT_TRUE(zero[0].module.empty());
}

TEST(SymbolizerTest, EmptyOrGarbageMapsKnowNothing) {
  for (const char* maps : {"", "not a maps file\n\n\x01\x02 garbage 12-", "0-0 ---- 0 0:0 0\n"}) {
    Symbolizer symbolizer(maps);
    std::vector<SourceFrame> frames = symbolizer.symbolize(fn_address(&racetrap_test_marker), false);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_TRUE(frames[0].function.empty());
    EXPECT_TRUE(frames[0].module.empty());
  }
}

TEST(SymbolizerTest, CachedResultsAreStable) {
  Symbolizer symbolizer(read_self_maps());
  uint64_t pc = fn_address(&racetrap_read_marker);
  std::vector<SourceFrame> first = symbolizer.symbolize(pc, false);
  std::vector<SourceFrame> second = symbolizer.symbolize(pc, false);
  ASSERT_EQ(first.size(), second.size());
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].function, second[i].function);
    EXPECT_EQ(first[i].line, second[i].line);
    EXPECT_EQ(first[i].module_offset, second[i].module_offset);
  }
  EXPECT_EQ(first[0].function, "racetrap_read_marker()");
}

// ---------------------------------------------------------------------------
// TextReport

using testing::make_stack;
using testing::make_thread;

AccessRecord make_access(uint32_t uid, uint32_t tid, uint64_t address, uint32_t size,
                         AccessKind kind, bool atomic, std::initializer_list<uint64_t> stack) {
  AccessRecord a;
  std::memset(&a, 0, sizeof a);
  a.stack = make_stack(stack);
  a.pc = a.stack.frame_count > 0 ? a.stack.frames[0] : 0;
  a.address = address;
  a.size = size;
  a.kind = static_cast<uint8_t>(kind);
  a.atomic = atomic ? 1 : 0;
  a.thread_uid = uid;
  a.os_tid = tid;
  return a;
}

RaceRecord make_race(const AccessRecord& current, const AccessRecord& previous) {
  RaceRecord r;
  std::memset(&r, 0, sizeof r);
  r.current = current;
  r.previous = previous;
  r.watch_address = previous.address;
  r.watch_size = previous.size;
  return r;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::string line;
  std::istringstream in(text);
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

size_t count_of(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
  return n;
}

// A frame line for a function of this file: "    #N name /...text_report_test.cc:L:C (unit_tests+0x..)".
// Returns the line number L (0 when the line does not match).
int frame_line_number(const std::string& line, int index, const std::string& function) {
  std::regex re("    #" + std::to_string(index) + " " + regex_escape(function) +
                " /\\S*text_report_test\\.cc:([0-9]+):[0-9]+ \\(" + regex_escape(self_exe_basename()) +
                "\\+0x[0-9a-f]+\\)");
  std::smatch m;
  if (!std::regex_match(line, m, re)) return 0;
  return std::stoi(m[1].str());
}

class TextReportTest : public ::testing::Test {
 protected:
  TextReportTest() : symbolizer_(read_self_maps()) {
    log_.pid = 1234;
    log_.maps = read_self_maps();
    uint64_t spawn = fn_address(&racetrap_spawn_marker);
    log_.threads.push_back(make_thread(0, 0, 100, "", {}));
    log_.threads.push_back(make_thread(1, 0, 101, "", {spawn}));
    log_.threads.push_back(make_thread(2, 1, 102, "worker", {spawn}));
  }

  RawLog log_;
  Symbolizer symbolizer_;
};

TEST_F(TextReportTest, Shape) {
  uint64_t write_pc = fn_address(&racetrap_write_marker);
  uint64_t read_pc = fn_address(&racetrap_read_marker);
  uint64_t ra = racetrap_return_address(); const int call_line = __LINE__;
  log_.races.push_back(make_race(
      make_access(2, 102, 0x1008, 8, AccessKind::kWrite, false, {write_pc, ra}),
      make_access(1, 101, 0x1008, 4, AccessKind::kRead, false, {read_pc})));
  log_.races.back().value_at_sample = 0x1122334455;
  log_.races.back().value_at_trap = 0x1122334466;

  TextReport report = render_text_report(log_, symbolizer_);
  EXPECT_EQ(report.race_count, 1u);
  SCOPED_TRACE("report:\n" + report.text);
  std::vector<std::string> lines = split_lines(report.text);
  ASSERT_EQ(lines.size(), 16u);
  EXPECT_EQ(lines[0], "==================");
  EXPECT_EQ(lines[1], "WARNING: racetrap: data race (pid=1234)");
  EXPECT_EQ(lines[2], "  Write of size 8 at 0x1008 by thread T2 'worker' (tid=102):");
  int l = frame_line_number(lines[3], 0, "racetrap_write_marker()");
  EXPECT_GE(l, kWriteMarkerLine) << lines[3];
  EXPECT_LE(l, kWriteMarkerLine + 3) << lines[3];
  EXPECT_EQ(frame_line_number(lines[4], 1,
                              "racetrap::(anonymous namespace)::TextReportTest_Shape_Test::TestBody()"),
            call_line)
      << lines[4];
  EXPECT_EQ(lines[5], "  Previous read of size 4 at 0x1008 by thread T1 (tid=101):");
  l = frame_line_number(lines[6], 0, "racetrap_read_marker()");
  EXPECT_GE(l, kReadMarkerLine) << lines[6];
  EXPECT_LE(l, kReadMarkerLine + 3) << lines[6];
  // The watch was 4 bytes wide (the previous access): values are masked to it.
  EXPECT_EQ(lines[7], "  Value before the write: 0x22334455, after: 0x22334466 (4 bytes)");
  EXPECT_EQ(lines[8], "  Thread T2 'worker' (tid=102) created by thread T1 at:");
  l = frame_line_number(lines[9], 0, "racetrap_spawn_marker()");
  EXPECT_GE(l, kSpawnMarkerLine) << lines[9];
  EXPECT_LE(l, kSpawnMarkerLine + 3) << lines[9];
  EXPECT_EQ(lines[10], "  Thread T1 (tid=101) created by main thread at:");
  EXPECT_GE(frame_line_number(lines[11], 0, "racetrap_spawn_marker()"), kSpawnMarkerLine) << lines[11];
  EXPECT_EQ(lines[12], "");
  EXPECT_TRUE(std::regex_match(
      lines[13], std::regex("SUMMARY: racetrap: data race /\\S*text_report_test\\.cc:[0-9]+:[0-9]+ "
                            "in racetrap_write_marker\\(\\)")))
      << lines[13];
  // The SUMMARY names the same place as the first frame.
  EXPECT_NE(lines[3].find(lines[13].substr(lines[13].find('/'), lines[13].find(" in ") - lines[13].find('/'))),
            std::string::npos);
  EXPECT_EQ(lines[14], "==================");
  EXPECT_EQ(lines[15], "racetrap: 1 distinct data races (1 reports)");
  EXPECT_EQ(report.text.back(), '\n');
  EXPECT_EQ(report.text.find("Seen"), std::string::npos);
}

TEST_F(TextReportTest, MainThreadAtomicAndUnknownFrames) {
  uint64_t write_pc = fn_address(&racetrap_write_marker);
  uint64_t read_pc = fn_address(&racetrap_read_marker);
  uint64_t libc_pc = fn_address(&getpid) + 1;  // a return address inside libc
  log_.races.push_back(make_race(
      make_access(0, 100, 0x1000, 4, AccessKind::kReadWrite, true, {write_pc, libc_pc, 0x10}),
      make_access(2, 102, 0x1000, 4, AccessKind::kWrite, false, {read_pc})));

  TextReport report = render_text_report(log_, symbolizer_);
  SCOPED_TRACE("report:\n" + report.text);
  EXPECT_EQ(report.race_count, 1u);
  std::vector<std::string> lines = split_lines(report.text);
  ASSERT_GE(lines.size(), 10u);
  EXPECT_EQ(lines[2], "  Read-write of size 4 (atomic) at 0x1000 by main thread (tid=100):");
  EXPECT_GT(frame_line_number(lines[3], 0, "racetrap_write_marker()"), 0) << lines[3];
  EXPECT_TRUE(std::regex_match(lines[4], std::regex("    #1 \\S*getpid\\S*( \\S+)? \\(libc\\.so\\.6\\+0x[0-9a-f]+\\)")))
      << lines[4];
  EXPECT_EQ(lines[5], "    #2 0x10 (<unknown module>)");
  EXPECT_EQ(lines[6], "  Previous write of size 4 at 0x1000 by thread T2 'worker' (tid=102):");
  // Only T2 has a creation block; the main thread has none.
  EXPECT_EQ(count_of(report.text, " created by "), 1u);
  EXPECT_NE(report.text.find("  Thread T2 'worker' (tid=102) created by thread T1 at:\n"), std::string::npos);
}

TEST_F(TextReportTest, DeduplicatesByUnorderedPcPair) {
  uint64_t write_pc = fn_address(&racetrap_write_marker);
  uint64_t read_pc = fn_address(&racetrap_read_marker);
  uint64_t other_pc = fn_address(&racetrap_test_marker);
  log_.races.push_back(make_race(make_access(2, 102, 0x2000, 8, AccessKind::kWrite, false, {write_pc}),
                                 make_access(1, 101, 0x2000, 8, AccessKind::kRead, false, {read_pc})));
  log_.races.push_back(make_race(make_access(1, 101, 0x3000, 8, AccessKind::kRead, false, {read_pc}),
                                 make_access(2, 102, 0x3000, 8, AccessKind::kWrite, false, {write_pc})));
  log_.races.push_back(make_race(make_access(2, 102, 0x4000, 8, AccessKind::kWrite, false, {other_pc}),
                                 make_access(1, 101, 0x4000, 8, AccessKind::kRead, false, {read_pc})));

  TextReport report = render_text_report(log_, symbolizer_);
  SCOPED_TRACE("report:\n" + report.text);
  EXPECT_EQ(report.race_count, 2u);
  EXPECT_EQ(count_of(report.text, "WARNING: racetrap: data race (pid=1234)\n"), 2u);
  EXPECT_EQ(count_of(report.text, "SUMMARY: racetrap: data race "), 2u);
  EXPECT_EQ(count_of(report.text, "==================\n"), 4u);
  EXPECT_EQ(count_of(report.text, "  Seen 2 times.\n\nSUMMARY: "), 1u);
  EXPECT_EQ(count_of(report.text, "Seen "), 1u);
  // The first record of the pair is the one shown.
  EXPECT_NE(report.text.find("  Write of size 8 at 0x2000 by thread T2 'worker' (tid=102):\n"),
            std::string::npos);
  EXPECT_EQ(report.text.find("0x3000"), std::string::npos);
  EXPECT_NE(report.text.find("  Write of size 8 at 0x4000 "), std::string::npos);
  EXPECT_LT(report.text.find("0x2000"), report.text.find("0x4000"));
  std::vector<std::string> lines = split_lines(report.text);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), "racetrap: 2 distinct data races (3 reports)");
}

TEST_F(TextReportTest, LocationOfAGlobal) {
  uint64_t write_pc = fn_address(&racetrap_write_marker);
  uint64_t read_pc = fn_address(&racetrap_read_marker);
  uint64_t sink = address_of(&g_sink);
  log_.races.push_back(make_race(make_access(1, 101, sink, 4, AccessKind::kRead, false, {read_pc}),
                                 make_access(2, 102, sink, 4, AccessKind::kWrite, false, {write_pc})));
  TextReport report = render_text_report(log_, symbolizer_);
  SCOPED_TRACE("report:\n" + report.text);
  EXPECT_NE(report.text.find(fmt::format("  Location is global 'g_sink' of size 4 at {:#x} ({})\n", sink,
                                         self_exe_basename())),
            std::string::npos);
  // A read races with an earlier write: no before/after values.
  EXPECT_EQ(report.text.find("Value before"), std::string::npos);
}

TEST_F(TextReportTest, LocationKindsFromTheMaps) {
  RawLog log;
  log.pid = 9;
  log.maps =
      "1000-2000 rw-p 00000000 00:00 0 [heap]\n"
      "3000-4000 rw-p 00000000 00:00 0 [stack]\n"
      "5000-6000 rw-p 00000000 00:00 0 \n";
  for (uint64_t address : {0x1100, 0x3100, 0x5100, 0x9100})
    log.races.push_back(make_race(make_access(1, 1, address, 1, AccessKind::kWrite, false, {address}),
                                  make_access(2, 2, address, 1, AccessKind::kWrite, false, {address + 1})));
  Symbolizer no_symbols("");
  TextReport report = render_text_report(log, no_symbols);
  SCOPED_TRACE("report:\n" + report.text);
  EXPECT_EQ(report.race_count, 4u);
  EXPECT_EQ(count_of(report.text, "  Location is heap memory.\n"), 1u);
  EXPECT_EQ(count_of(report.text, "  Location is stack of main thread.\n"), 1u);
  EXPECT_EQ(count_of(report.text, "  Location is heap or thread stack memory (anonymous mapping).\n"), 1u);
  EXPECT_EQ(count_of(report.text, "  Location is "), 3u);  // 0x9100: unknown, no line
}

TEST_F(TextReportTest, EmptyInputIsEmptyText) {
  TextReport report = render_text_report(log_, symbolizer_);
  EXPECT_EQ(report.text, "");
  EXPECT_EQ(report.race_count, 0u);
  RawLog empty;
  Symbolizer no_maps("");
  report = render_text_report(empty, no_maps);
  EXPECT_EQ(report.text, "");
  EXPECT_EQ(report.race_count, 0u);
}

TEST_F(TextReportTest, CorruptRecordsStillRender) {
  // Unknown threads, an impossible kind, empty stacks, no symbols at all.
  RawLog log;
  log.pid = 7;
  log.races.push_back(make_race(make_access(9, 0, 0x10, 1, static_cast<AccessKind>(0), false, {}),
                                make_access(8, 55, 0x10, 1, AccessKind::kRead, false, {0x20})));
  Symbolizer no_maps("");
  TextReport report = render_text_report(log, no_maps);
  SCOPED_TRACE("report:\n" + report.text);
  EXPECT_EQ(report.race_count, 1u);
  EXPECT_NE(report.text.find("  Access of size 1 at 0x10 by thread T9:\n    <empty stack>\n"),
            std::string::npos);
  EXPECT_NE(report.text.find("    #0 0x20 (<unknown module>)\n"), std::string::npos);
  EXPECT_NE(report.text.find("SUMMARY: racetrap: data race 0x0\n"), std::string::npos);
}

HeldLocksRecord known_locks(uint32_t total, std::initializer_list<HeldLockRecord> locks) {
  HeldLocksRecord r{};
  r.flags = kLocksKnown;
  r.total = total;
  int i = 0;
  for (const HeldLockRecord& l : locks) r.locks[i++] = l;
  return r;
}

TEST_F(TextReportTest, LocksHeldByEachAccess) {
  uint64_t write_pc = fn_address(&racetrap_write_marker);
  uint64_t read_pc = fn_address(&racetrap_read_marker);
  uint64_t ra = racetrap_return_address(); const int lock_line = __LINE__;
  const uint64_t a = address_of(&g_lock_a), b = address_of(&g_lock_b);
  log_.races.push_back(make_race(make_access(2, 102, 0x1008, 8, AccessKind::kWrite, false, {write_pc}),
                                 make_access(1, 101, 0x1008, 8, AccessKind::kRead, false, {read_pc})));
  log_.races.back().current_locks = known_locks(1, {{a, ra - 1, 0, {}}});  // a call site, as after_lock() records it
  // The sampled side: an rwlock read-locked, the same mutex as the other side
  // (inside it: +8), and 4 more than the record keeps.
  log_.races.back().previous_locks = known_locks(6, {{b, 0, 1, {}}, {a + 8, 0, 2, {}}, {a, 0, 0, {}}, {0x10, 0, 0, {}}});
  // A second race where one side held nothing and the other is unknown.
  log_.races.push_back(make_race(make_access(2, 102, 0x2000, 8, AccessKind::kWrite, false, {read_pc}),
                                 make_access(1, 101, 0x2000, 8, AccessKind::kWrite, false, {write_pc + 1})));
  log_.races.back().current_locks = known_locks(0, {});

  TextReport report = render_text_report(log_, symbolizer_);
  SCOPED_TRACE("report:\n" + report.text);
  std::vector<std::string> lines = split_lines(report.text);
  ASSERT_GE(lines.size(), 12u);
  EXPECT_EQ(lines[2], "  Write of size 8 at 0x1008 by thread T2 'worker' (tid=102):");
  EXPECT_GT(frame_line_number(lines[3], 0, "racetrap_write_marker()"), 0) << lines[3];
  std::smatch m;
  ASSERT_TRUE(std::regex_match(
      lines[4], m,
      std::regex(fmt::format("    Locks held: M1 \\(mutex {:#x} 'g_lock_a', acquired at text_report_test\\.cc:([0-9]+):[0-9]+ "
                             "in racetrap::\\(anonymous namespace\\)::TextReportTest_LocksHeldByEachAccess_Test::TestBody\\(\\)\\)",
                             a))))
      << lines[4];
  EXPECT_EQ(std::stoi(m[1].str()), lock_line);
  EXPECT_EQ(lines[5], "  Previous read of size 8 at 0x1008 by thread T1 (tid=101):");
  EXPECT_GT(frame_line_number(lines[6], 0, "racetrap_read_marker()"), 0) << lines[6];
  // Locks are numbered per report: the same lock is the same M on both sides.
  EXPECT_EQ(lines[7], fmt::format("    Locks held: M2 (rwlock {:#x} read-locked 'g_lock_b')", b));
  EXPECT_EQ(lines[8], fmt::format("                M3 (rwlock {:#x} write-locked 'g_lock_a+0x8')", a + 8));
  EXPECT_EQ(lines[9], fmt::format("                M1 (mutex {:#x} 'g_lock_a')", a));
  EXPECT_EQ(lines[10], "                M4 (mutex 0x10)");
  EXPECT_EQ(lines[11], "                2 more locks not recorded");
  EXPECT_NE(report.text.find("  Previous write of size 8 at 0x2000 by thread T1 (tid=101):\n    #0 "), std::string::npos);
  EXPECT_EQ(count_of(report.text, "    Locks held: none\n"), 1u);
  EXPECT_EQ(count_of(report.text, "Locks held:"), 3u);  // the unknown side says nothing
}

// Repeats of a recorded PC pair (RaceSeenRecord) add to that race's count: the
// largest total per unordered pair, none for a pair with no record.
TEST_F(TextReportTest, SeenCountsIncludeRepeats) {
  uint64_t write_pc = fn_address(&racetrap_write_marker);
  uint64_t read_pc = fn_address(&racetrap_read_marker);
  uint64_t other_pc = fn_address(&racetrap_test_marker);
  log_.races.push_back(make_race(make_access(2, 102, 0x2000, 8, AccessKind::kWrite, false, {write_pc}),
                                 make_access(1, 101, 0x2000, 8, AccessKind::kRead, false, {read_pc})));
  log_.races.push_back(make_race(make_access(2, 102, 0x4000, 8, AccessKind::kWrite, false, {other_pc}),
                                 make_access(1, 101, 0x4000, 8, AccessKind::kRead, false, {read_pc})));
  log_.race_seen.push_back(RaceSeenRecord{read_pc, write_pc, 3});   // the pair in the other order
  log_.race_seen.push_back(RaceSeenRecord{write_pc, read_pc, 7});   // a later total
  log_.race_seen.push_back(RaceSeenRecord{write_pc, read_pc, 5});   // an older one, written late
  log_.race_seen.push_back(RaceSeenRecord{0xdead, 0xbeef, 50});     // no record of that pair

  ReportModel model = build_report_model(log_, symbolizer_);
  ASSERT_EQ(model.races.size(), 2u);
  EXPECT_EQ(model.races[0].count, 8u);  // 1 record + 7 repeats
  EXPECT_EQ(model.races[1].count, 1u);
  TextReport report = render_text_report(log_, symbolizer_);
  SCOPED_TRACE("report:\n" + report.text);
  EXPECT_EQ(count_of(report.text, "  Seen 8 times.\n"), 1u);
  EXPECT_EQ(count_of(report.text, "Seen "), 1u);
  EXPECT_NE(report.text.find("racetrap: 2 distinct data races (9 reports)\n"), std::string::npos);
  // Runs merge: counts add up.
  ReportModel merged = merge_report_models({model, model});
  ASSERT_EQ(merged.races.size(), 2u);
  EXPECT_EQ(merged.races[0].count, 16u);
  EXPECT_EQ(merged.races[0].runs, 2u);
}

}  // namespace
}  // namespace racetrap
