// report_test.cc — the report model and everything built on it, without running
// the detector: JSON (parser and report round trip), suppressions (each rule kind,
// anchors, wildcards, comments, bad lines), merging runs, fingerprints, SARIF shape,
// format lists, maps parsing.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "json_text.h"
#include "json_report.h"
#include "memory_map.h"
#include "race_report_model.h"
#include "report_output.h"
#include "sarif_report.h"
#include "suppressions.h"

namespace racetrap {
namespace {

SourceFrame frame(const std::string& function, const std::string& file, int line,
                  const std::string& module = "/usr/bin/app", uint64_t pc = 0x1000) {
  SourceFrame f;
  f.pc = pc;
  f.function = function;
  f.file = file;
  f.line = line;
  f.column = file.empty() ? 0 : 3;
  f.module = module;
  f.module_offset = pc - 0x1000 + 0x40;
  return f;
}

// A race as build_report_model makes it: worker() writes, reader() read before.
RaceReport sample_race(uint64_t pc_shift = 0) {
  RaceReport r;
  r.pid = 42;
  r.count = 2;
  r.runs = 1;
  r.current.kind = "write";
  r.current.size = 8;
  r.current.address = 0x55550000 + pc_shift;
  r.current.thread_uid = 2;
  r.current.os_tid = 1002;
  r.current.thread_name = "worker";
  r.current.stack = {frame("ns::Queue::push(int)", "/src/app/queue.cc", 17, "/usr/bin/app", 0x1100 + pc_shift),
                     frame("worker(void*)", "/src/app/main.cc", 30, "/usr/bin/app", 0x1200 + pc_shift),
                     frame("start_thread", "", 0, "/lib/libc.so.6", 0x7000 + pc_shift)};
  r.previous.kind = "read";
  r.previous.size = 8;
  r.previous.address = r.current.address;
  r.previous.thread_uid = 1;
  r.previous.os_tid = 1001;
  r.previous.stack = {frame("reader", "/src/app/main.cc", 12, "/usr/bin/app", 0x1300 + pc_shift)};
  r.location.kind = "global";
  r.location.symbol = "g_queue";
  r.location.start = r.current.address;
  r.location.size = 64;
  r.location.module = "/usr/bin/app";
  r.has_values = true;
  r.value_size = 8;
  r.value_before = 1;
  r.value_after = 0xffffffffffffffffull;  // above 2^63: must survive JSON
  ReportThread t;
  t.uid = 2;
  t.os_tid = 1002;
  t.name = "worker";
  t.known = true;
  t.parent_uid = 0;
  t.creation = {frame("main", "/src/app/main.cc", 50)};
  r.threads.push_back(t);
  ReportThread unknown;
  unknown.uid = 1;
  unknown.os_tid = 1001;
  r.threads.push_back(unknown);
  r.fingerprint = race_fingerprint(r);
  return r;
}

ReportModel sample_model() {
  ReportModel m;
  m.runs.push_back(RunInfo{42, "/tmp/racetrap.42.raw", true});
  m.races.push_back(sample_race());
  RaceReport other = sample_race();
  other.current.stack[0].function = "other_place()";
  other.count = 1;
  other.fingerprint = race_fingerprint(other);
  other.suppressed_by = "race:other_place";
  m.suppressed.push_back(other);
  m.stats = {{"samples", 10}, {"races", 3}};
  return m;
}

// ---------------------------------------------------------------------------
// JSON

TEST(JsonTest, ParsesAndWritesValues) {
  JsonParse p = parse_json(R"( {"a": [1, -2, 3.5, true, false, null], "s": "x\"\\\n\u00e9\ud83d\ude00", "o": {}} )");
  ASSERT_TRUE(p.value) << p.error;
  const Json& v = *p.value;
  ASSERT_EQ(v.at("a").size(), 6u);
  EXPECT_EQ(v.at("a")[1].get<int64_t>(), -2);
  EXPECT_EQ(v.at("s").get<std::string>(), "x\"\\\n\xc3\xa9\xf0\x9f\x98\x80");
  JsonParse again = parse_json(dump_json(v));
  ASSERT_TRUE(again.value) << again.error;
  EXPECT_EQ(*again.value, v);
  EXPECT_EQ(parse_json(dump_json(v, -1)).value, v);
  EXPECT_EQ(dump_json(v, -1), "{\"a\":[1,-2,3.5,true,false,null],\"s\":\"x\\\"\\\\\\n\xc3\xa9\xf0\x9f\x98\x80\",\"o\":{}}");
  // Members keep their insertion order; 64-bit integers stay exact.
  Json o = Json::object();
  put(o, "z", 1);
  put(o, "a", uint64_t{0xffffffffffffffffull});
  EXPECT_EQ(dump_json(o, -1), R"({"z":1,"a":18446744073709551615})");
  EXPECT_EQ(member(o, "a")->get<uint64_t>(), 0xffffffffffffffffull);
  EXPECT_EQ(member(o, "missing"), nullptr);
  EXPECT_EQ(member(Json::array(), "a"), nullptr);
}

TEST(JsonTest, ErrorsNameLineAndColumn) {
  JsonParse p = parse_json("{\n  \"a\": 1,\n  \"b\" 2\n}");
  EXPECT_FALSE(p.value);
  EXPECT_EQ(p.error, "line 3, column 7: syntax error while parsing object separator - unexpected number literal; "
                     "expected ':'");
  for (const char* bad : {"", "{", "[1,]", "\"abc", "01", "1.", "-", "tru", "{\"a\":1}x", "\"\\ud800\"",
                          "\"\x01\"", "[\"\xff\"]", "1e", "{1:2}"}) {
    JsonParse q = parse_json(bad);
    EXPECT_FALSE(q.value) << bad;
    EXPECT_EQ(q.error.rfind("line ", 0), 0u) << bad << ": " << q.error;
    EXPECT_EQ(q.error.find('\n'), std::string::npos) << bad << ": " << q.error;
  }
  JsonParse deep = parse_json(std::string(100000, '['));  // depth limit, no stack overflow
  EXPECT_FALSE(deep.value);
  EXPECT_EQ(deep.error, "line 1, column 201: nested too deeply");
  EXPECT_TRUE(parse_json("[\"[[[[\"]").value);  // brackets in strings do not nest
}

TEST(JsonTest, WritesInvalidUtf8AsReplacement) {
  EXPECT_EQ(dump_json(Json("a\xff" "b\x01")), "\"a\xEF\xBF\xBD" "b\\u0001\"");
}

TEST(JsonReportTest, RoundTrip) {
  ReportModel m = sample_model();
  std::string text = render_json_report(m);
  std::string error;
  std::optional<ReportModel> back = parse_json_report(text, "r.json", &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(*back, m);
  EXPECT_EQ(render_json_report(*back), text);
}

// sample_race() with held locks: a mutex (global, with its call site) on the
// current side; on the previous side an rwlock read lock and more than the record keeps.
RaceReport race_with_locks() {
  RaceReport r = sample_race();
  ReportHeldLock mutex;
  mutex.address = 0x55556000;
  mutex.mode = "mutex";
  mutex.symbol = "g_queue_lock";
  mutex.acquired_at = {frame("worker(void*)", "/src/app/main.cc", 29)};
  r.current.locks_known = true;
  r.current.locks = {mutex};
  r.current.locks_total = 1;
  ReportHeldLock rw;
  rw.address = 0x7f0000001000;
  rw.mode = "read";
  r.previous.locks_known = true;
  r.previous.locks = {rw};
  r.previous.locks_total = 6;
  r.fingerprint = race_fingerprint(r);
  return r;
}

TEST(JsonReportTest, RoundTripWithHeldLocks) {
  ReportModel m = sample_model();
  m.races[0] = race_with_locks();
  RaceReport none = sample_race(0x40);  // known: no lock held on either side
  none.current.locks_known = true;
  none.previous.locks_known = true;
  none.fingerprint = race_fingerprint(none);
  m.races.push_back(none);
  std::string text = render_json_report(m);
  EXPECT_NE(text.find("\"locks_held\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"locks_held_total\": 6"), std::string::npos) << text;
  EXPECT_NE(text.find("\"symbol\": \"g_queue_lock\""), std::string::npos) << text;
  std::string error;
  std::optional<ReportModel> back = parse_json_report(text, "r.json", &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(*back, m);
  EXPECT_TRUE(back->races[1].current.locks_known);
  EXPECT_TRUE(back->races[1].current.locks.empty());
  EXPECT_FALSE(back->suppressed[0].current.locks_known);  // not recorded stays not recorded
  EXPECT_EQ(render_json_report(*back), text);
  // The held locks are no part of the race's identity.
  EXPECT_EQ(m.races[0].fingerprint, sample_race().fingerprint);
}

TEST(JsonReportTest, HeldLocksAreChecked) {
  ReportModel m;
  m.races.push_back(race_with_locks());
  std::string text = render_json_report(m);
  size_t mode = text.find("\"mode\": \"mutex\"");
  ASSERT_NE(mode, std::string::npos);
  std::string bad = text;
  bad.replace(mode, std::string("\"mode\": \"mutex\"").size(), "\"mode\": \"spin\"");
  std::string error;
  EXPECT_FALSE(parse_json_report(bad, "r.json", &error));
  EXPECT_EQ(error, "r.json: $.races[0].current.locks_held[0].mode: not \"mutex\", \"read\" or \"write\"");
}

TEST(JsonReportTest, RejectsOtherDocumentsWithOneLine) {
  std::string error;
  EXPECT_FALSE(parse_json_report("[1]", "a.json", &error));
  EXPECT_EQ(error, "a.json: not a racetrap JSON report (not a JSON object)");
  EXPECT_FALSE(parse_json_report("{\"format\": \"racetrap-report\", \"version\": 9}", "b.json", &error));
  EXPECT_EQ(error, "b.json: unsupported racetrap JSON report version 9 (this racetrap reads 1..1)");
  EXPECT_FALSE(parse_json_report("{\"x\": ", "c.json", &error));
  EXPECT_EQ(error, "c.json: line 1, column 7: syntax error while parsing value - unexpected end of input; "
                   "expected '[', '{', or a literal");
  std::string text = render_json_report(sample_model());
  std::string broken = text;
  broken.replace(broken.find("\"line\": 17"), 10, "\"line\": \"x\"");
  EXPECT_FALSE(parse_json_report(broken, "d.json", &error));
  EXPECT_EQ(error, "d.json: $.races[0].current.stack[0].line: not an integer in 0..2147483647");
  // Every truncation of a valid report is an error, never a crash.
  for (size_t n = 0; n < text.size(); n += 7) EXPECT_FALSE(parse_json_report(text.substr(0, n), "t", &error));
}

// ---------------------------------------------------------------------------
// Golden files: the JSON and SARIF text of fixed models, byte for byte. A change
// of the writer (or of the JSON library under it) that changes a byte fails here.
// RACETRAP_UPDATE_GOLDEN=1 rewrites the files (review the diff before committing).

// Names as debug info can hold them: quotes, backslashes, control characters,
// non-ASCII UTF-8 and a byte that is not UTF-8.
ReportModel awkward_model() {
  ReportModel m = sample_model();
  RaceReport r = race_with_locks();
  r.current.stack[0].function = "op\"quoted\"\\back\tslash\n(caf\xc3\xa9 \xf0\x9f\x98\x80)";
  r.current.stack[1].file = "/src/app/d\xffir/\x01ctl.cc";
  r.current.thread_name = "w\xe2\x80\x94orker";
  r.location.symbol = "g_\xce\xbb";
  r.fingerprint = race_fingerprint(r);
  m.races.push_back(r);
  return m;
}

void expect_golden(const std::string& name, const std::string& text) {
  const std::string path = std::string(RACETRAP_GOLDEN_DIR) + "/" + name;
  const char* update = std::getenv("RACETRAP_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << text;
    return;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << "no golden file " << path;
  std::stringstream golden;
  golden << in.rdbuf();
  EXPECT_EQ(text, golden.str()) << "output differs from " << path;
}

TEST(GoldenTest, JsonReport) { expect_golden("report.json", render_json_report(awkward_model())); }

TEST(GoldenTest, SarifReport) {
  expect_golden("report.sarif", render_sarif_report(awkward_model(), SarifOptions{"/src/app"}));
}

// ---------------------------------------------------------------------------
// Model: fingerprints and merging

TEST(ReportModelTest, FingerprintIgnoresAddressesAndOrder) {
  RaceReport a = sample_race(0);
  RaceReport b = sample_race(0x5000);  // another run: other addresses, same symbols
  EXPECT_EQ(a.fingerprint, b.fingerprint);
  std::swap(b.current, b.previous);
  EXPECT_EQ(race_fingerprint(b), a.fingerprint);
  b.previous.stack[0].line = 18;
  EXPECT_NE(race_fingerprint(b), a.fingerprint);
  EXPECT_EQ(a.fingerprint.size(), 16u);
}

TEST(ReportModelTest, MergesRunsAndRanksByRuns) {
  ReportModel once;
  once.runs.push_back({1, "a", false});
  RaceReport rare = sample_race();
  rare.current.stack[0].function = "rare()";
  rare.fingerprint = race_fingerprint(rare);
  rare.count = 50;
  once.races.push_back(rare);
  std::vector<ReportModel> runs = {once};
  for (uint32_t pid : {2u, 3u, 4u}) {
    ReportModel m;
    m.runs.push_back({pid, "", false});
    m.races.push_back(sample_race(pid * 0x100));
    m.races.back().pid = pid;
    m.stats = {{"samples", 5}};
    runs.push_back(m);
  }
  ReportModel merged = merge_report_models(runs);
  ASSERT_EQ(merged.races.size(), 2u);
  EXPECT_EQ(merged.runs.size(), 4u);
  EXPECT_EQ(merged.races[0].fingerprint, sample_race().fingerprint);  // 3 runs beat 1 run
  EXPECT_EQ(merged.races[0].runs, 3u);
  EXPECT_EQ(merged.races[0].count, 6u);
  EXPECT_EQ(merged.races[0].pid, 2u);  // the first run's details are kept
  EXPECT_EQ(merged.races[1].runs, 1u);
  ASSERT_EQ(merged.stats.size(), 1u);
  EXPECT_EQ(merged.stats[0].second, 15u);
}

TEST(ReportModelTest, FunctionBaseName) {
  EXPECT_EQ(function_base_name("ns::Queue::push(int)"), "ns::Queue::push");
  EXPECT_EQ(function_base_name("f(void (*)(int)) const"), "f");
  EXPECT_EQ(function_base_name("operator()(int)"), "operator()");
  EXPECT_EQ(function_base_name("plain_c"), "plain_c");
  EXPECT_EQ(function_base_name("(anonymous namespace)::g()"), "(anonymous namespace)::g");
}

// ---------------------------------------------------------------------------
// Suppressions

TEST(SuppressionsTest, TemplateMatch) {
  EXPECT_TRUE(template_match("push", "ns::Queue::push(int)"));
  EXPECT_TRUE(template_match("^ns::", "ns::Queue::push"));
  EXPECT_FALSE(template_match("^Queue", "ns::Queue::push"));
  EXPECT_TRUE(template_match("push$", "ns::Queue::push"));
  EXPECT_FALSE(template_match("push$", "ns::Queue::push(int)"));
  EXPECT_TRUE(template_match("^ns::*::push$", "ns::Queue::push"));
  EXPECT_TRUE(template_match("Q*e*push", "ns::Queue::push"));
  EXPECT_FALSE(template_match("push*Queue", "ns::Queue::push"));
  EXPECT_TRUE(template_match("*", "anything"));
  EXPECT_TRUE(template_match("^reader$", "reader"));
  EXPECT_FALSE(template_match("^reader$", "reader2"));
  EXPECT_TRUE(template_match("^a*$", "a"));
  EXPECT_FALSE(template_match("^ab*b$", "ab"));
}

TEST(SuppressionsTest, ParsesCommentsAndReportsBadLinesWithLineNumbers) {
  Suppressions s = parse_suppressions(
      "# a comment\n"
      "\n"
      "race:reader\n"
      "   race_top:^ns::Queue   \n"
      "bogus line\n"
      "frobnicate:x\n"
      "race:\n"
      "thread:worker\n"
      "called_from_lib:libfoo.so\n"
      "mutex:m\n"
      "deadlock:d\n"
      "signal:s\n",
      "supp.txt");
  ASSERT_EQ(s.rules.size(), 7u);
  EXPECT_EQ(s.rules[0].text(), "race:reader");
  EXPECT_EQ(s.rules[0].line, 3);
  EXPECT_EQ(s.rules[1].text(), "race_top:^ns::Queue");
  EXPECT_EQ(s.rules[2].line, 8);
  ASSERT_EQ(s.errors.size(), 3u);
  EXPECT_EQ(s.errors[0], "supp.txt:5: 'bogus line' is not TYPE:PATTERN (e.g. race:my_function)");
  EXPECT_EQ(s.errors[1].rfind("supp.txt:6: unknown suppression type 'frobnicate'", 0), 0u) << s.errors[1];
  EXPECT_EQ(s.errors[2], "supp.txt:7: empty pattern after 'race:'");
  Suppressions missing = load_suppressions("/nonexistent/racetrap.supp");
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_EQ(missing.errors[0].rfind("/nonexistent/racetrap.supp: cannot read", 0), 0u);
}

// The README's example, copied as it is: rules with trailing comments are used.
TEST(SuppressionsTest, TrailingCommentAfterWhitespaceIsIgnored) {
  Suppressions s = parse_suppressions(
      "race:MyQueue::push          # any frame of either access stack\n"
      "race_top:^hot_loop$\t# only the top frame\n"
      "race:file#name.c\n",
      "supp.txt");
  ASSERT_EQ(s.rules.size(), 3u);
  EXPECT_EQ(s.rules[0].text(), "race:MyQueue::push");
  EXPECT_EQ(s.rules[1].text(), "race_top:^hot_loop$");
  EXPECT_EQ(s.rules[2].text(), "race:file#name.c");  // no whitespace before '#': part of the pattern
  EXPECT_TRUE(s.errors.empty()) << s.errors[0];
}

TEST(SuppressionsTest, WarnsAboutARuleThatCanNeverMatch) {
  Suppressions s = parse_suppressions("race:foo$bar\nrace:a^b\nrace:^ok$\n", "supp.txt");
  ASSERT_EQ(s.rules.size(), 3u);  // kept: a warning, not an error
  ASSERT_EQ(s.errors.size(), 2u);
  EXPECT_EQ(s.errors[0], "supp.txt:1: warning: 'race:foo$bar' can never match ('$' anchors only at the end of a pattern); the rule is kept");
  EXPECT_EQ(s.errors[1].rfind("supp.txt:2: warning: 'race:a^b' can never match", 0), 0u) << s.errors[1];
}

std::string matching_rule(const std::string& line) {
  Suppressions s = parse_suppressions(line + "\n", "s");
  const SuppressionRule* rule = find_suppression(s, sample_race());
  return rule == nullptr ? "" : rule->text();
}

TEST(SuppressionsTest, EachRuleKind) {
  // race: any frame of either stack, by function, file or module, and the global.
  EXPECT_EQ(matching_rule("race:worker"), "race:worker");          // frame #1 of current
  EXPECT_EQ(matching_rule("race:^reader$"), "race:^reader$");      // previous stack
  EXPECT_EQ(matching_rule("race:^ns::Queue::push$"), "race:^ns::Queue::push$");  // without params
  EXPECT_EQ(matching_rule("race:queue.cc"), "race:queue.cc");      // file
  EXPECT_EQ(matching_rule("race:libc.so"), "race:libc.so");        // module of frame #2
  EXPECT_EQ(matching_rule("race:g_queue"), "race:g_queue");        // global name
  EXPECT_EQ(matching_rule("race:nothing_like_it"), "");
  // race_top: only frame #0 of each stack.
  EXPECT_EQ(matching_rule("race_top:push"), "race_top:push");
  EXPECT_EQ(matching_rule("race_top:reader"), "race_top:reader");
  EXPECT_EQ(matching_rule("race_top:worker"), "");
  EXPECT_EQ(matching_rule("race_top:libc"), "");
  // thread: a thread's name or its creation stack.
  EXPECT_EQ(matching_rule("thread:work"), "thread:work");
  EXPECT_EQ(matching_rule("thread:^main$"), "thread:^main$");
  EXPECT_EQ(matching_rule("thread:reader"), "");
  // called_from_lib: the module of an access's own frame.
  EXPECT_EQ(matching_rule("called_from_lib:app"), "called_from_lib:app");
  EXPECT_EQ(matching_rule("called_from_lib:libc.so.6"), "");
  // Kinds racetrap does not report never match a race.
  EXPECT_EQ(matching_rule("mutex:*"), "");
  EXPECT_EQ(matching_rule("deadlock:*"), "");
}

TEST(SuppressionsTest, ApplyMovesRacesAndListsThem) {
  ReportModel m;
  m.runs.push_back({7, "", false});
  m.races.push_back(sample_race());
  RaceReport kept = sample_race();
  kept.current.stack = {frame("elsewhere", "/src/x.c", 1)};
  kept.previous.stack = kept.current.stack;
  kept.location.symbol.clear();
  kept.threads.clear();
  m.races.push_back(kept);
  apply_suppressions(parse_suppressions("race:Queue\n", "s"), &m);
  ASSERT_EQ(m.races.size(), 1u);
  ASSERT_EQ(m.suppressed.size(), 1u);
  EXPECT_EQ(m.suppressed[0].suppressed_by, "race:Queue");
  std::string suggested = suggest_suppressions(m);
  EXPECT_NE(suggested.find("\nrace:elsewhere\n"), std::string::npos) << suggested;
}

// Two std::atomic operations (inlined frames named by the debug info) are not a
// data race; one atomic and one plain access are.
TEST(SuppressionsTest, BuiltInStdAtomicPairIsNotADataRace) {
  ReportModel m;
  m.runs.push_back({7, "", false});
  RaceReport both = sample_race();
  // As libdw demangles them: a template function's name starts with its return type.
  both.current.stack.insert(both.current.stack.begin(),
                            frame("void std::__atomic_impl::store<std::__barrier_phase_t>(std::__barrier_phase_t*, "
                                  "std::remove_volatile<std::__barrier_phase_t>::type, std::memory_order)",
                                  "/usr/include/x.h", 962));
  both.previous.stack.insert(both.previous.stack.begin(),
                             frame("std::remove_volatile<std::__barrier_phase_t>::type std::__atomic_impl::load<"
                                   "std::__barrier_phase_t>(std::__barrier_phase_t const*, std::memory_order)",
                                   "/usr/include/y.h", 970));
  RaceReport members = sample_race();
  members.current.stack.insert(members.current.stack.begin(),
                               frame("std::atomic<int>::load(std::memory_order) const", "/usr/include/y.h", 5));
  members.previous.stack.insert(members.previous.stack.begin(),
                                frame("std::__atomic_base<long>::operator++()", "/usr/include/y.h", 7));
  RaceReport one = sample_race();
  one.current.stack.insert(one.current.stack.begin(), frame("std::atomic<int>::store(int)", "/usr/include/y.h", 9));
  RaceReport lookalike = sample_race();  // a program function returning a std:: type
  lookalike.current.stack.insert(lookalike.current.stack.begin(),
                                 frame("std::atomic<int> make_counter(int)", "/src/c.cc", 3));
  lookalike.previous.stack = lookalike.current.stack;
  m.races = {both, members, one, lookalike};
  apply_suppressions(Suppressions{}, &m);
  ASSERT_EQ(m.suppressed.size(), 2u);
  EXPECT_EQ(m.suppressed[0].suppressed_by, kStdAtomicPair);
  EXPECT_EQ(m.suppressed[1].suppressed_by, kStdAtomicPair);
  ASSERT_EQ(m.races.size(), 2u);
  EXPECT_EQ(m.races[0].current.stack[0].function, "std::atomic<int>::store(int)");
  EXPECT_EQ(m.races[1].current.stack[0].function, "std::atomic<int> make_counter(int)");
}

// Two accesses inside std::barrier's own members (ordered by its phase atomic,
// plain moves in the binary) are not a data race; one inside it and one in the
// program are.
TEST(SuppressionsTest, BuiltInStdSyncObjectPairIsNotADataRace) {
  ReportModel m;
  m.runs.push_back({7, "", false});
  RaceReport both = sample_race();
  both.current.stack.insert(both.current.stack.begin(),
                            frame("std::__tree_barrier<std::__empty_completion>::arrive(long)", "/usr/include/b", 174));
  both.previous.stack.insert(both.previous.stack.begin(),
                             frame("bool std::__tree_barrier<std::__empty_completion>::_M_arrive("
                                   "std::__barrier_phase_t, unsigned long)", "/usr/include/b", 105));
  RaceReport one = sample_race();
  one.current.stack.insert(one.current.stack.begin(),
                           frame("std::__tree_barrier<std::__empty_completion>::arrive(long)", "/usr/include/b", 174));
  m.races = {both, one};
  apply_suppressions(Suppressions{}, &m);
  ASSERT_EQ(m.suppressed.size(), 1u);
  EXPECT_EQ(m.suppressed[0].suppressed_by, kStdSyncObjectPair);
  ASSERT_EQ(m.races.size(), 1u);
}

// ---------------------------------------------------------------------------
// SARIF

TEST(SarifTest, HeldLocksInPropertiesAndMessages) {
  ReportModel m;
  m.races.push_back(race_with_locks());
  m.races.push_back(sample_race(0x40));  // locks not recorded
  Json sarif = report_to_sarif(m, SarifOptions{});
  const Json& results = sarif.at("runs").at(0).at("results");
  ASSERT_EQ(results.size(), 2u);
  const Json& locks = results[0].at("properties").at("locksHeld");
  const Json& current = locks.at("current");
  EXPECT_EQ(current.at("total").get<int64_t>(), 1);
  const Json& mutex = current.at("locks").at(0);
  EXPECT_EQ(mutex.at("address").get<std::string>(), "0x55556000");
  EXPECT_EQ(mutex.at("mode").get<std::string>(), "mutex");
  EXPECT_EQ(mutex.at("symbol").get<std::string>(), "g_queue_lock");
  EXPECT_EQ(mutex.at("acquiredAt").get<std::string>(), "main.cc:29:3 in worker(void*)");
  const Json& previous = locks.at("previous");
  EXPECT_EQ(previous.at("total").get<int64_t>(), 6);
  EXPECT_EQ(previous.at("locks").at(0).at("mode").get<std::string>(), "read");
  EXPECT_EQ(member(previous.at("locks").at(0), "symbol"), nullptr);
  // The related location (the previous access) says what its thread held.
  const std::string related =
      results[0].at("relatedLocations").at(0).at("message").at("text").get<std::string>();
  EXPECT_NE(related.find(", holding rwlock (read) (0x7f0000001000) and 5 more"), std::string::npos) << related;
  const std::string message = results[0].at("message").at("text").get<std::string>();
  EXPECT_NE(message.find(", holding mutex 'g_queue_lock' (0x55556000) conflicts with"), std::string::npos) << message;
  // Not recorded: no property, no words.
  EXPECT_EQ(member(results[1].at("properties"), "locksHeld"), nullptr);
  EXPECT_EQ(results[1].at("message").at("text").get<std::string>().find("holding"), std::string::npos);
}

TEST(SarifTest, ShapeAndRelativePaths) {
  ReportModel m = sample_model();
  Json sarif = report_to_sarif(m, SarifOptions{"/src/app"});
  EXPECT_EQ(sarif.at("version").get<std::string>(), "2.1.0");
  const Json& run = sarif.at("runs").at(0);
  EXPECT_EQ(run.at("tool").at("driver").at("rules").at(0).at("id").get<std::string>(),
            "racetrap/data-race");
  EXPECT_EQ(run.at("originalUriBaseIds").at("SRCROOT").at("uri").get<std::string>(), "file:///src/app/");
  const Json& result = run.at("results").at(0);
  EXPECT_EQ(result.at("ruleId").get<std::string>(), "racetrap/data-race");
  const Json& artifact = result.at("locations").at(0).at("physicalLocation").at("artifactLocation");
  EXPECT_EQ(artifact.at("uri").get<std::string>(), "queue.cc");
  EXPECT_EQ(artifact.at("uriBaseId").get<std::string>(), "SRCROOT");
  EXPECT_EQ(result.at("stacks").size(), 2u);
  EXPECT_EQ(result.at("relatedLocations").size(), 1u);
  EXPECT_EQ(result.at("partialFingerprints").at("racetrapStack/v1").get<std::string>(), m.races[0].fingerprint);
  bool relative = true;
  EXPECT_EQ(sarif_uri("/other/a b.c", "/src/app", &relative), "file:///other/a%20b.c");
  EXPECT_FALSE(relative);
}

// ---------------------------------------------------------------------------
// Output formats, maps

TEST(ReportOutputTest, FormatLists) {
  std::vector<ReportFormat> f;
  EXPECT_EQ(parse_formats("text", &f), "");
  EXPECT_EQ(f.size(), 1u);
  EXPECT_EQ(parse_formats("sarif, json,sarif", &f), "");
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0], ReportFormat::kSarif);
  EXPECT_EQ(parse_formats("text,xml", &f), "unknown report format 'xml' (use text, json, sarif or a comma list)");
  EXPECT_NE(parse_formats(",", &f), "");
}

TEST(MemoryMapTest, ParsesAndFinds) {
  MemoryMap m = parse_memory_map(
      "7f00-8000 r-xp 00001000 08:01 42 /usr/lib/lib a.so\n"
      "garbage\n"
      "1000-2000 rw-p 00000000 00:00 0 [heap]\n"
      "zz-yy rw-p 0 0 0\n");
  ASSERT_EQ(m.mappings.size(), 2u);
  EXPECT_EQ(m.find(0x1800)->path, "[heap]");
  EXPECT_EQ(m.find(0x7f00)->path, "/usr/lib/lib a.so");
  EXPECT_TRUE(m.find(0x7f00)->executable);
  EXPECT_EQ(m.find(0x2000), nullptr);
  EXPECT_EQ(m.find(0), nullptr);
}

}  // namespace
}  // namespace racetrap
