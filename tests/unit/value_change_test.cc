// value_change_test.cc — the value-change mode's pieces that need no running
// program: RACETRAP_MODE and RACETRAP_STALL_US parsing, the mode decision, the
// /proc/self/maps check that keeps shared and kernel-written memory out of reports,
// and how value-change records are rendered (text, JSON round trip, SARIF).
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/auxv.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "detection_mode.h"
#include "flags.h"
#include "json_report.h"
#include "memory_access.h"
#include "private_mapping.h"
#include "race_record.h"
#include "race_report_model.h"
#include "raw_log_reader.h"
#include "record_builders.h"
#include "sarif_report.h"
#include "suppressions.h"
#include "symbolizer.h"
#include "text_report.h"

namespace racetrap {
namespace {

using testing::make_stack;
using testing::make_thread;

Flags parse(const std::map<std::string, std::string>& env, std::vector<std::string>* warnings) {
  return parse_flags(
      [&env](const char* name) -> const char* {
        auto it = env.find(name);
        return it == env.end() ? nullptr : it->second.c_str();
      },
      [warnings](const std::string& line) { warnings->push_back(line); });
}

TEST(ModeFlag, DefaultsAndChoices) {
  std::vector<std::string> warnings;
  EXPECT_EQ(parse({}, &warnings).mode, "auto");
  EXPECT_EQ(parse({}, &warnings).stall_us, 20);
  for (const char* mode : {"auto", "watchpoints", "value-change"})
    EXPECT_EQ(parse({{"RACETRAP_MODE", mode}}, &warnings).mode, mode);
  EXPECT_TRUE(warnings.empty());
}

TEST(ModeFlag, AnythingElseKeepsTheDefaultWithOneLine) {
  for (const char* bad : {"valuechange", "value-change ", "WATCHPOINTS", "auto|watchpoints", "a"}) {
    std::vector<std::string> warnings;
    EXPECT_EQ(parse({{"RACETRAP_MODE", bad}}, &warnings).mode, "auto") << bad;
    ASSERT_EQ(warnings.size(), 1u) << bad;
    EXPECT_EQ(warnings[0], std::string("racetrap: RACETRAP_MODE='") + bad +
                               "' is not one of auto|watchpoints|value-change; using the default auto");
  }
  std::vector<std::string> warnings;
  EXPECT_EQ(parse({{"RACETRAP_STALL_US", "0"}}, &warnings).stall_us, 20);
  EXPECT_EQ(parse({{"RACETRAP_STALL_US", "1001"}}, &warnings).stall_us, 20);
  EXPECT_EQ(parse({{"RACETRAP_STALL_US", "80"}}, &warnings).stall_us, 80);
  EXPECT_EQ(warnings.size(), 2u);
}

TEST(ModeFlag, RunOptionAndDocsComeFromTheTable) {
  EXPECT_NE(flags_markdown().find("| `RACETRAP_MODE` | `--mode` | `auto` |"), std::string::npos);
  EXPECT_NE(flags_markdown().find("| `RACETRAP_STALL_US` | `--stall-us` | `20` (1..1000) |"), std::string::npos);
}

TEST(DetectionMode, ForcedModesIgnoreTheSelfTest) {
  for (BreakpointSelfTest r : {BreakpointSelfTest::not_run, BreakpointSelfTest::fires, BreakpointSelfTest::silent,
                               BreakpointSelfTest::unavailable}) {
    EXPECT_EQ(choose_detection_mode("watchpoints", r), DetectionMode::kWatchpoints);
    EXPECT_EQ(choose_detection_mode("value-change", r), DetectionMode::kValueChange);
  }
}

TEST(DetectionMode, AutoFallsBackOnlyWhenBreakpointsAreProvedBlind) {
  EXPECT_EQ(choose_detection_mode("auto", BreakpointSelfTest::fires), DetectionMode::kWatchpoints);
  EXPECT_EQ(choose_detection_mode("auto", BreakpointSelfTest::not_run), DetectionMode::kWatchpoints);
  EXPECT_EQ(choose_detection_mode("auto", BreakpointSelfTest::silent), DetectionMode::kValueChange);
  EXPECT_EQ(choose_detection_mode("auto", BreakpointSelfTest::unavailable), DetectionMode::kValueChange);
  EXPECT_EQ(describe_detection_mode("auto", BreakpointSelfTest::silent),
            "value-change (RACETRAP_MODE=auto: debug-register traps never fired)");
  EXPECT_EQ(describe_detection_mode("watchpoints", BreakpointSelfTest::silent),
            "watchpoints (RACETRAP_MODE=watchpoints)");
}

TEST(DetectionMode, SamplePeriodIsTheFlagOrTheModesDefault) {
  EXPECT_EQ(sample_period_us(0, DetectionMode::kWatchpoints), 2000);
  EXPECT_EQ(sample_period_us(0, DetectionMode::kValueChange), 4000);
  EXPECT_EQ(sample_period_us(50, DetectionMode::kValueChange), 50);
  EXPECT_EQ(sample_period_us(2000, DetectionMode::kValueChange), 2000);
  EXPECT_EQ(sample_period_us(5, DetectionMode::kWatchpoints), 20);
}

TEST(PrivateMapping, ParsesMapsLines) {
  MapsLine m;
  const std::string priv = "7f0000001000-7f0000003000 rw-p 00000000 00:00 0 ";
  ASSERT_TRUE(parse_maps_line(priv.data(), priv.size(), &m));
  EXPECT_EQ(m.begin, 0x7f0000001000u);
  EXPECT_EQ(m.end, 0x7f0000003000u);
  EXPECT_TRUE(m.writable);
  EXPECT_FALSE(m.shared);
  EXPECT_FALSE(m.special);
  const std::string shared = "7f0000001000-7f0000003000 rw-s 00000000 00:05 1234   /dev/shm/x";
  ASSERT_TRUE(parse_maps_line(shared.data(), shared.size(), &m));
  EXPECT_TRUE(m.shared);
  const std::string vvar = "7ffd1000-7ffd5000 r--p 00000000 00:00 0                          [vvar]";
  ASSERT_TRUE(parse_maps_line(vvar.data(), vvar.size(), &m));
  EXPECT_TRUE(m.special);
  EXPECT_FALSE(m.writable);
  for (const std::string bad : {"", "zz-10 rw-p", "1000-2000", "1000 2000 rw-p", "1000-2000 rw"})
    EXPECT_FALSE(parse_maps_line(bad.data(), bad.size(), &m)) << bad;
}

long a_global = 1;
const long a_constant = 2;

TEST(PrivateMapping, OnlyPrivateWritableMemoryCounts) {
  EXPECT_TRUE(in_private_writable_memory(reinterpret_cast<uint64_t>(&a_global), sizeof a_global));
  long on_heap_or_stack = 3;
  EXPECT_TRUE(in_private_writable_memory(reinterpret_cast<uint64_t>(&on_heap_or_stack), 8));
  EXPECT_FALSE(in_private_writable_memory(reinterpret_cast<uint64_t>(&a_constant), sizeof a_constant));
  void* shared = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(shared, MAP_FAILED);
  EXPECT_FALSE(in_private_writable_memory(reinterpret_cast<uint64_t>(shared), 8));
  munmap(shared, 4096);
  // Two writable pages and an inaccessible one after them.
  void* priv = mmap(nullptr, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(priv, MAP_FAILED);
  ASSERT_EQ(mprotect(static_cast<char*>(priv) + 8192, 4096, PROT_NONE), 0);
  EXPECT_TRUE(in_private_writable_memory(reinterpret_cast<uint64_t>(priv) + 8184, 8));
  EXPECT_FALSE(in_private_writable_memory(reinterpret_cast<uint64_t>(priv) + 8188, 8));  // runs past the end
  EXPECT_FALSE(in_private_writable_memory(reinterpret_cast<uint64_t>(priv) + 8192, 8));
  munmap(priv, 3 * 4096);
  EXPECT_FALSE(in_private_writable_memory(reinterpret_cast<uint64_t>(priv), 8));  // unmapped
  const uint64_t vdso = getauxval(AT_SYSINFO_EHDR);
  if (vdso != 0) {
    EXPECT_FALSE(in_private_writable_memory(vdso, 8));
  }
}

// ---------------------------------------------------------------------------
// Rendering

AccessRecord access(uint32_t uid, uint32_t tid, uint64_t address, AccessKind kind, uint64_t pc) {
  AccessRecord a;
  std::memset(&a, 0, sizeof a);
  a.stack = make_stack({pc});
  a.pc = pc;
  a.address = address;
  a.size = 8;
  a.kind = static_cast<uint8_t>(kind);
  a.thread_uid = uid;
  a.os_tid = tid;
  return a;
}

// A value change: T1's sampled read at `sampled_pc` saw 5 become 6; the writer is
// T2 at `writer_pc`, or unknown when writer_pc is 0.
RaceRecord value_change(uint64_t sampled_pc, uint64_t writer_pc) {
  RaceRecord r;
  std::memset(&r, 0, sizeof r);
  r.previous = access(1, 101, 0x1000, AccessKind::kRead, sampled_pc);
  if (writer_pc != 0) {
    r.current = access(2, 102, 0x1000, AccessKind::kWrite, writer_pc);
  } else {
    r.current.address = 0x1000;
    r.current.size = 8;
    r.current.kind = static_cast<uint8_t>(AccessKind::kWrite);
    r.current.thread_uid = kUnknownThreadUid;
  }
  r.watch_address = 0x1000;
  r.watch_size = 8;
  r.flags = kRaceValueChanged | (writer_pc != 0 ? kRaceWriterFound : 0);
  r.value_at_sample = 5;
  r.value_at_trap = 6;
  return r;
}

class ValueChangeReportTest : public ::testing::Test {
 protected:
  ValueChangeReportTest() : symbolizer_("") {
    log_.pid = 77;
    log_.threads.push_back(make_thread(0, 0, 100, "", {}));
    log_.threads.push_back(make_thread(1, 0, 101, "", {0x10}));
    log_.threads.push_back(make_thread(2, 0, 102, "", {0x10}));
  }
  RawLog log_;
  Symbolizer symbolizer_;
};

TEST_F(ValueChangeReportTest, UnknownWriterIsSaidSo) {
  log_.races.push_back(value_change(0x4000, 0));
  ReportModel model = build_report_model(log_, symbolizer_);
  ASSERT_EQ(model.races.size(), 1u);
  EXPECT_TRUE(model.races[0].value_changed);
  EXPECT_FALSE(model.races[0].writer_known);
  const std::string text = render_text(model);
  SCOPED_TRACE(text);
  EXPECT_NE(text.find("WARNING: racetrap: data race (value changed) (pid=77)\n"), std::string::npos);
  EXPECT_NE(text.find("  Write of size 8 at 0x1000 by an unknown thread:\n    <not identified: "), std::string::npos);
  EXPECT_NE(text.find("  Previous read of size 8 at 0x1000 by thread T1 (tid=101):\n"), std::string::npos);
  EXPECT_NE(text.find("  Found by value-change sampling: the value changed from 0x5 to 0x6 (8 bytes)"),
            std::string::npos);
  EXPECT_NE(text.find("SUMMARY: racetrap: data race (value changed) 0x4000\n"), std::string::npos);
  EXPECT_EQ(text.find("4294967295"), std::string::npos);  // no made-up thread
  EXPECT_EQ(text.find("created at an unknown place"), std::string::npos);
  EXPECT_NE(text.find("  Thread T1 (tid=101) created by main thread at:"), std::string::npos);
}

TEST_F(ValueChangeReportTest, KnownWriterHasItsStackAndAbsorbsUnknownOnes) {
  log_.races.push_back(value_change(0x4000, 0));
  log_.races.push_back(value_change(0x4000, 0x5000));
  log_.races.push_back(value_change(0x4000, 0));
  log_.races.push_back(value_change(0x4100, 0));  // another sampled site: its own race
  ReportModel model = build_report_model(log_, symbolizer_);
  ASSERT_EQ(model.races.size(), 2u);
  EXPECT_TRUE(model.races[0].writer_known);
  EXPECT_EQ(model.races[0].count, 3u);
  EXPECT_EQ(model.races[0].current.stack.at(0).pc, 0x5000u);
  EXPECT_FALSE(model.races[1].writer_known);
  const std::string text = render_text(model);
  SCOPED_TRACE(text);
  EXPECT_NE(text.find("  Write of size 8 at 0x1000 by thread T2 (tid=102):\n    #0 0x5000"), std::string::npos);
  EXPECT_NE(text.find("  Seen 3 times."), std::string::npos);
}

TEST_F(ValueChangeReportTest, JsonRoundTripAndSarif) {
  log_.races.push_back(value_change(0x4000, 0));
  log_.races.push_back(value_change(0x4200, 0x5000));
  ReportModel model = build_report_model(log_, symbolizer_);
  const std::string json = render_json_report(model);
  EXPECT_NE(json.find("\"detection\": \"value-change\""), std::string::npos);
  std::string error;
  std::optional<ReportModel> back = parse_json_report(json, "r.json", &error);
  ASSERT_TRUE(back.has_value()) << error;
  ASSERT_EQ(back->races.size(), 2u);
  EXPECT_TRUE(back->races[0].value_changed);
  EXPECT_FALSE(back->races[0].writer_known);
  EXPECT_TRUE(back->races[1].value_changed);
  EXPECT_TRUE(back->races[1].writer_known);
  EXPECT_EQ(render_text(*back), render_text(model));
  const std::string sarif = render_sarif_report(model, SarifOptions{});
  EXPECT_NE(sarif.find("Data race (value changed)"), std::string::npos);
  EXPECT_NE(sarif.find("the writer was not identified"), std::string::npos);
  EXPECT_NE(sarif.find("\"writerKnown\": false"), std::string::npos);
}

TEST_F(ValueChangeReportTest, WatchpointRacesAreUnchanged) {
  RaceRecord r = value_change(0x4000, 0x5000);
  r.flags = 0;
  log_.races.push_back(r);
  ReportModel model = build_report_model(log_, symbolizer_);
  const std::string text = render_text(model);
  EXPECT_NE(text.find("WARNING: racetrap: data race (pid=77)"), std::string::npos);
  EXPECT_EQ(text.find("value change"), std::string::npos);
  EXPECT_EQ(render_json_report(model).find("detection"), std::string::npos);
}

}  // namespace
}  // namespace racetrap
