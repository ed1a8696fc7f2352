// Unit tests for the lock-order graph (lib/engine/lock_order_graph.h), the per-thread
// held-lock array (lib/engine/held_locks.h) and the report model / renderers for
// lock-order inversions and pthread misuse.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <memory>
#include <vector>

#include "held_locks.h"
#include "json_report.h"
#include "lock_order_graph.h"
#include "race_report_model.h"
#include "raw_log_reader.h"
#include "raw_log_writer.h"
#include "sarif_report.h"
#include "suppressions.h"
#include "text_report.h"

namespace racetrap {
namespace {

struct Sink {
  std::vector<LockCycleRecord> cycles;
  static void add(const LockCycleRecord& c, void* self) { static_cast<Sink*>(self)->cycles.push_back(c); }
};

LockEdgeRecord edge(uint64_t held, uint64_t acquired, uint64_t pc, uint32_t uid = 1) {
  LockEdgeRecord e{};
  e.held = held;
  e.acquired = acquired;
  e.thread_uid = uid;
  e.os_tid = 100 + uid;
  e.stack.frame_count = 1;
  e.stack.frames[0] = pc;
  return e;
}

class GraphTest : public ::testing::Test {
 protected:
  std::unique_ptr<LockOrderGraph> graph = std::make_unique<LockOrderGraph>();
  Sink sink;
  LockOrderGraph::AddResult add(uint64_t a, uint64_t b, uint64_t pc, uint32_t uid = 1) {
    return graph->add_edge(edge(a, b, pc, uid), Sink::add, &sink);
  }
};

constexpr uint64_t A = 0x1000, B = 0x2000, C = 0x3000, D = 0x4000;

TEST_F(GraphTest, TwoLockCycleFoundOnce) {
  EXPECT_EQ(add(A, B, 0x10, 1), LockOrderGraph::AddResult::kAdded);
  EXPECT_EQ(add(A, B, 0x11, 1), LockOrderGraph::AddResult::kExists);
  EXPECT_TRUE(graph->has_edge(graph->find_node(A), graph->find_node(B)));
  EXPECT_FALSE(graph->has_edge(graph->find_node(B), graph->find_node(A)));
  EXPECT_EQ(add(B, A, 0x20, 2), LockOrderGraph::AddResult::kCycle);
  ASSERT_EQ(sink.cycles.size(), 1u);
  const LockCycleRecord& c = sink.cycles[0];
  ASSERT_EQ(c.edge_count, 2u);
  EXPECT_EQ(c.edges[0].held, B);  // the new edge comes first
  EXPECT_EQ(c.edges[0].acquired, A);
  EXPECT_EQ(c.edges[0].thread_uid, 2u);
  EXPECT_EQ(c.edges[1].held, A);
  EXPECT_EQ(c.edges[1].acquired, B);
  EXPECT_EQ(c.edges[1].stack.frames[0], 0x10u);  // the first time A->B was taken
  EXPECT_EQ(c.flags, 0u);
  // Again: the edges exist, nothing new.
  EXPECT_EQ(add(B, A, 0x21, 3), LockOrderGraph::AddResult::kExists);
  EXPECT_EQ(sink.cycles.size(), 1u);
  EXPECT_EQ(graph->cycles_reported(), 1u);
}

TEST_F(GraphTest, ConsistentOrderNotReported) {
  add(A, B, 0x10);
  add(B, C, 0x11);
  add(A, C, 0x12);
  add(C, D, 0x13);
  add(A, D, 0x14);
  EXPECT_TRUE(sink.cycles.empty());
  EXPECT_EQ(graph->edges(), 5u);
  EXPECT_EQ(graph->nodes(), 4u);
}

TEST_F(GraphTest, ThreeLockCycle) {
  EXPECT_EQ(add(A, B, 0x10, 1), LockOrderGraph::AddResult::kAdded);
  EXPECT_EQ(add(B, C, 0x20, 2), LockOrderGraph::AddResult::kAdded);
  EXPECT_EQ(add(C, A, 0x30, 3), LockOrderGraph::AddResult::kCycle);
  ASSERT_EQ(sink.cycles.size(), 1u);
  const LockCycleRecord& c = sink.cycles[0];
  ASSERT_EQ(c.edge_count, 3u);
  // C->A, then A->B, B->C: each edge's acquired is the next one's held.
  for (uint32_t i = 0; i < 3; ++i) EXPECT_EQ(c.edges[i].acquired, c.edges[(i + 1) % 3].held);
  EXPECT_EQ(c.edges[0].held, C);
  EXPECT_EQ(c.edges[0].thread_uid, 3u);
}

TEST_F(GraphTest, ShortestCycleReported) {
  add(A, B, 0x10);
  add(B, C, 0x11);
  add(C, D, 0x12);
  add(B, D, 0x13);
  EXPECT_EQ(add(D, A, 0x14), LockOrderGraph::AddResult::kCycle);
  ASSERT_EQ(sink.cycles.size(), 1u);
  EXPECT_EQ(sink.cycles[0].edge_count, 3u);  // D->A->B->D, not D->A->B->C->D
}

TEST_F(GraphTest, DestroyForgetsEdges) {
  add(A, B, 0x10);
  graph->forget(A);
  EXPECT_EQ(graph->find_node(A), 0u);
  EXPECT_EQ(graph->edges(), 0u);
  EXPECT_EQ(add(B, A, 0x20), LockOrderGraph::AddResult::kAdded);  // a new lock at A's address
  EXPECT_TRUE(sink.cycles.empty());
  graph->forget(D);  // never nested: nothing happens
  // The forgotten edge's slot and node are reused; lookups still work.
  for (uint64_t i = 0; i < 100; ++i) {
    add(0x10000 + i * 64, 0x90000 + i * 64, 0x30);
    graph->forget(0x10000 + i * 64);
  }
  EXPECT_EQ(graph->edges(), 1u);
  EXPECT_TRUE(graph->has_edge(graph->find_node(B), graph->find_node(A)));
}

TEST_F(GraphTest, SameCycleAfterDestroyReportedOnceBySite) {
  add(A, B, 0x10);
  add(B, A, 0x20);
  ASSERT_EQ(sink.cycles.size(), 1u);
  graph->forget(A);
  graph->forget(B);
  add(A, B, 0x10);
  add(B, A, 0x20);  // the same locks and call sites: already reported
  EXPECT_EQ(sink.cycles.size(), 1u);
  graph->forget(A);
  add(A, B, 0x11);
  add(B, A, 0x20);  // another call site: a new report
  EXPECT_EQ(sink.cycles.size(), 2u);
}

TEST_F(GraphTest, BoundedMemoryDropsEdgesWhenFull) {
  uint64_t added = 0;
  for (uint64_t i = 0; i < LockOrderGraph::kMaxEdges + 100; ++i) {
    if (add(0x100000, 0x200000 + i * 64, 0x10) == LockOrderGraph::AddResult::kAdded) ++added;
  }
  EXPECT_LE(graph->nodes(), LockOrderGraph::kNodeSlots);
  EXPECT_LE(graph->edges(), LockOrderGraph::kMaxEdges);
  EXPECT_GT(graph->dropped(), 0u);
  EXPECT_EQ(added, graph->edges());
}

TEST(CycleIdentity, IndependentOfStartingEdge) {
  LockCycleRecord a{}, b{};
  a.edge_count = b.edge_count = 2;
  a.edges[0] = edge(A, B, 0x10);
  a.edges[1] = edge(B, A, 0x20);
  b.edges[0] = a.edges[1];
  b.edges[1] = a.edges[0];
  EXPECT_EQ(lock_cycle_identity(a), lock_cycle_identity(b));
  b.edges[1].stack.frames[0] = 0x11;
  EXPECT_NE(lock_cycle_identity(a), lock_cycle_identity(b));
}

TEST(HeldLocks, PushPopRecursionAndOverflow) {
  HeldLocks h;
  h.push(A, 1, 0, HeldMode::kMutex);
  h.push(B, 2, 0, HeldMode::kRead);
  h.push(A, 3, 0, HeldMode::kMutex);  // recursive
  EXPECT_EQ(h.count(), 2);
  EXPECT_EQ(h.find(A)->depth, 2);
  EXPECT_EQ(h.find(A)->pc, 1u);
  EXPECT_TRUE(h.pop(A));
  EXPECT_NE(h.find(A), nullptr);
  EXPECT_TRUE(h.pop(A));
  EXPECT_EQ(h.find(A), nullptr);
  EXPECT_FALSE(h.pop(C));
  EXPECT_TRUE(h.pop(B));
  EXPECT_EQ(h.count(), 0);
  for (int i = 0; i < kMaxHeldLocks + 3; ++i) h.push(0x100 + i * 8, 0, 0, HeldMode::kMutex);
  EXPECT_EQ(h.count(), kMaxHeldLocks);
  EXPECT_EQ(h.untracked(), 3);
  EXPECT_FALSE(h.pop(0x1));  // maybe one of the untracked ones
  EXPECT_EQ(h.untracked(), 2);
  h.forget(0x100);
  EXPECT_EQ(h.count(), kMaxHeldLocks - 1);
}

// The lock interposers' fast path: push_into_empty is push() on an empty array.
TEST(HeldLocks, FastPathPushIntoEmpty) {
  HeldLocks h;
  h.push_into_empty(A, 1, HeldMode::kMutex);
  EXPECT_EQ(h.count(), 1);
  EXPECT_EQ(h.find(A)->depth, 1);
  EXPECT_EQ(h.find(A)->pc, 1u);
  EXPECT_EQ(h.find(A)->node, 0u);
  EXPECT_TRUE(h.pop(A));
  EXPECT_EQ(h.count(), 0);
}

// The unlock fast path skips pop() when holds_only() is true: it must be true only
// while the release leaves nothing held, tracked or not, and false after any other
// change of the array (a second lock, a relock, a pop, a destroyed lock, a clear).
TEST(HeldLocks, OnlyLockForTheUnlockFastPath) {
  HeldLocks h;
  EXPECT_FALSE(h.holds_only(0));  // nothing held: 0 is no lock
  EXPECT_FALSE(h.holds_only(A));
  h.push_into_empty(A, 1, HeldMode::kMutex);
  EXPECT_TRUE(h.holds_only(A));
  EXPECT_FALSE(h.holds_only(B));
  h.release_only();
  EXPECT_EQ(h.count(), 0);
  EXPECT_FALSE(h.holds_only(A));

  h.push_into_empty(A, 1, HeldMode::kMutex);
  h.push(A, 2, 0, HeldMode::kMutex);  // recursive: the unlock leaves it held
  EXPECT_FALSE(h.holds_only(A));
  EXPECT_TRUE(h.pop(A));
  EXPECT_FALSE(h.holds_only(A));  // held once now, but not through push_into_empty
  EXPECT_TRUE(h.pop(A));

  h.push_into_empty(A, 1, HeldMode::kMutex);
  h.push(B, 2, 0, HeldMode::kMutex);  // nested
  EXPECT_FALSE(h.holds_only(A));
  EXPECT_TRUE(h.pop(B));
  EXPECT_FALSE(h.holds_only(A));
  h.clear();

  h.push_into_empty(A, 1, HeldMode::kMutex);
  h.forget(A);
  EXPECT_FALSE(h.holds_only(A));
  h.push_into_empty(A, 1, HeldMode::kMutex);
  h.clear();
  EXPECT_FALSE(h.holds_only(A));

  // Locks past the capacity are counted, not kept: with any of them, an unlock of
  // the only kept one may leave an untracked lock held.
  for (int i = 0; i < kMaxHeldLocks + 1; ++i) h.push(0x1000 + i, 1, 0, HeldMode::kMutex);
  for (int i = 0; i < kMaxHeldLocks; ++i) EXPECT_TRUE(h.pop(0x1000 + i));
  EXPECT_EQ(h.count(), 0);
  EXPECT_EQ(h.untracked(), 1);
  h.push_into_empty(A, 1, HeldMode::kMutex);
  EXPECT_FALSE(h.holds_only(A));
}

// The unlock fast path skips the release when the thread's clock id is the one
// recorded at the acquisition: never for a clock without an id (0), never for an id
// recorded for an earlier hold.
TEST(HeldLocks, OnlyClockUnchangedSinceTheAcquisition) {
  HeldLocks h;
  h.push_into_empty(A, 1, HeldMode::kMutex);
  EXPECT_FALSE(h.only_clock_unchanged(0));  // nothing recorded: release
  EXPECT_FALSE(h.only_clock_unchanged(7));
  h.set_only_clock(7);
  EXPECT_TRUE(h.only_clock_unchanged(7));
  EXPECT_FALSE(h.only_clock_unchanged(8));  // the clock changed in the hold (a sample ticked it)
  EXPECT_FALSE(h.only_clock_unchanged(0));
  h.release_only();
  EXPECT_FALSE(h.only_clock_unchanged(7));
  h.set_only_clock(7);
  h.push_into_empty(A, 1, HeldMode::kMutex);  // the next hold starts with nothing recorded
  EXPECT_FALSE(h.only_clock_unchanged(7));
  h.set_only_clock(0);  // the lock's clock differed from the thread's
  EXPECT_FALSE(h.only_clock_unchanged(0));
}

RawLog log_with_reports() {
  RawLog log;
  log.pid = 42;
  LockCycleRecord cycle{};
  cycle.edge_count = 2;
  cycle.edges[0] = edge(B, A, 0x20, 2);
  cycle.edges[0].held_pc = 0x19;
  cycle.edges[1] = edge(A, B, 0x10, 1);
  log.lock_cycles.push_back(cycle);
  log.lock_cycles.push_back(cycle);  // repeated: one report, count 2
  MisuseRecord misuse{};
  misuse.kind = static_cast<uint32_t>(MisuseKind::kSelfDeadlock);
  misuse.mutex = A;
  misuse.earlier_pc = 0x30;
  misuse.stack.frame_count = 1;
  misuse.stack.frames[0] = 0x40;
  log.misuses.push_back(misuse);
  misuse.kind = static_cast<uint32_t>(MisuseKind::kUnlockByNonOwner);
  misuse.earlier_pc = 0;
  misuse.owner_tid = 77;
  log.misuses.push_back(misuse);
  return log;
}

TEST(LockReports, ModelTextJsonSarif) {
  // No maps: frames stay bare pcs, enough for kinds, shape, JSON, SARIF, suppressions.
  Symbolizer symbolizer("");
  ReportModel model = build_report_model(log_with_reports(), symbolizer);
  ASSERT_EQ(model.races.size(), 3u);
  EXPECT_EQ(model.races[0].kind, "lock-order-inversion");
  EXPECT_EQ(model.races[0].count, 2u);
  ASSERT_EQ(model.races[0].cycle.size(), 2u);
  EXPECT_EQ(model.races[0].cycle[0].held, B);
  EXPECT_EQ(model.races[1].kind, "self-deadlock");
  EXPECT_TRUE(model.races[1].has_previous);
  EXPECT_EQ(model.races[2].kind, "unlock-by-non-owner");
  EXPECT_FALSE(model.races[2].has_previous);
  EXPECT_EQ(model.races[2].owner_tid, 77u);

  std::string text = render_text(model);
  EXPECT_NE(text.find("WARNING: racetrap: lock-order-inversion (potential deadlock) (pid=42)"), std::string::npos);
  EXPECT_NE(text.find("Mutex M2 acquired here while holding mutex M1 in thread T2 (tid=102):"), std::string::npos);
  EXPECT_NE(text.find("Mutex M1 acquired here while holding mutex M2 in thread T1 (tid=101):"), std::string::npos);
  EXPECT_NE(text.find("Mutex M1 previously acquired by the same thread at:"), std::string::npos);
  EXPECT_NE(text.find("WARNING: racetrap: self-deadlock (pid=42)"), std::string::npos);
  EXPECT_NE(text.find("WARNING: racetrap: unlock-by-non-owner (pid=42)"), std::string::npos);
  EXPECT_NE(text.find("SUMMARY: racetrap: lock-order-inversion (potential deadlock) "), std::string::npos);
  EXPECT_NE(text.find("SUMMARY: racetrap: self-deadlock "), std::string::npos);
  EXPECT_NE(text.find("racetrap: 1 lock-order inversions (potential deadlocks)"), std::string::npos);
  EXPECT_NE(text.find("racetrap: 2 pthread misuse reports (2 calls)"), std::string::npos);
  EXPECT_EQ(text.find("distinct data races"), std::string::npos);

  std::string error;
  std::optional<ReportModel> back = parse_json_report(render_json_report(model), "x.json", &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(*back, model);

  std::string sarif = render_sarif_report(model, SarifOptions{});
  EXPECT_NE(sarif.find("\"racetrap/lock-order-inversion\""), std::string::npos);
  EXPECT_NE(sarif.find("\"racetrap/self-deadlock\""), std::string::npos);
  EXPECT_NE(sarif.find("\"racetrap/unlock-by-non-owner\""), std::string::npos);

  // Suppressions: deadlock: for inversions, mutex: for misuse, race: for neither.
  Suppressions race_rule = parse_suppressions("race:0x\nrace:*\n", "s");
  ReportModel m1 = model;
  apply_suppressions(race_rule, &m1);
  EXPECT_EQ(m1.races.size(), 3u);
  ReportModel m2 = model;
  m2.races[0].cycle[0].held_symbol = "lock_b";
  apply_suppressions(parse_suppressions("deadlock:lock_b\n", "s"), &m2);
  ASSERT_EQ(m2.races.size(), 2u);
  EXPECT_EQ(m2.suppressed.size(), 1u);
  EXPECT_EQ(m2.suppressed[0].suppressed_by, "deadlock:lock_b");
}

TEST(LockReports, RawStreamRoundTrip) {
  std::string path = ::testing::TempDir() + "lock_reports." + std::to_string(getpid()) + ".raw";
  unlink(path.c_str());
  RawLogWriter writer;
  writer.configure(path.c_str(), 42);
  RawLog in = log_with_reports();
  for (const LockCycleRecord& c : in.lock_cycles) ASSERT_TRUE(writer.append_lock_cycle(c));
  for (const MisuseRecord& m : in.misuses) ASSERT_TRUE(writer.append_misuse(m));
  writer.close();
  std::string error;
  std::optional<RawLog> out = read_raw_log(path, &error);
  unlink(path.c_str());
  ASSERT_TRUE(out) << error;
  EXPECT_TRUE(error.empty()) << error;
  ASSERT_EQ(out->lock_cycles.size(), 2u);
  ASSERT_EQ(out->misuses.size(), 2u);
  EXPECT_EQ(out->lock_cycles[0].edges[0].held, B);
  EXPECT_EQ(out->misuses[1].owner_tid, 77u);
  EXPECT_EQ(writer.races_written(), 0u);  // not data races
}

// Every misuse kind: its own name, SARIF rule, description; what the call
// returned and the object kind survive the JSON round trip.
TEST(LockReports, EveryMisuseKindRendered) {
  RawLog log;
  log.pid = 42;
  for (uint32_t kind = 1; kind <= kMaxMisuseKind; ++kind) {
    MisuseRecord m{};
    m.kind = kind;
    m.mutex = A + kind * 64;
    m.stack.frame_count = 1;
    m.stack.frames[0] = 0x100 + kind;
    m.object = static_cast<uint32_t>(MisuseObject::kRwlock);
    m.flags = kMisuseHasResult;
    m.result = EPERM;
    m.with_mutex = 0x5000;
    m.other_mutex = 0x6000;
    m.lock_count = 2;
    log.misuses.push_back(m);
  }
  Symbolizer symbolizer("");
  ReportModel model = build_report_model(log, symbolizer);
  ASSERT_EQ(model.races.size(), kMaxMisuseKind);
  std::string text = render_text(model);
  std::string sarif = render_sarif_report(model, SarifOptions{});
  for (uint32_t kind = 1; kind <= kMaxMisuseKind; ++kind) {
    const RaceReport& r = model.races[kind - 1];
    EXPECT_EQ(r.kind, misuse_kind_name(kind));
    EXPECT_NE(r.kind, "pthread-misuse");
    EXPECT_TRUE(is_misuse_kind(r.kind));
    EXPECT_EQ(r.object, "rwlock");
    EXPECT_TRUE(r.has_result);
    EXPECT_EQ(r.result, EPERM);
    EXPECT_NE(misuse_description(r).find("the call returned EPERM"), std::string::npos) << r.kind;
    EXPECT_EQ(misuse_description(r).find("Misuse of"), std::string::npos) << r.kind;  // a description of its own
    EXPECT_NE(text.find("WARNING: racetrap: " + r.kind + " (pid=42)"), std::string::npos) << r.kind;
    EXPECT_NE(sarif.find("\"racetrap/" + r.kind + "\""), std::string::npos) << r.kind;
  }
  EXPECT_NE(text.find("with mutex 0x5000 by main thread, while another thread waits on it with mutex 0x6000"),
            std::string::npos);
  EXPECT_NE(text.find("exits while holding rwlock M1"), std::string::npos);
  EXPECT_NE(text.find(" and 1 more"), std::string::npos);
  std::string error;
  std::optional<ReportModel> back = parse_json_report(render_json_report(model), "x.json", &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(*back, model);
  // mutex: suppressions apply to every misuse kind.
  ReportModel suppressed = model;
  for (RaceReport& r : suppressed.races) {
    ASSERT_FALSE(r.current.stack.empty());
    r.current.stack[0].function = "teardown(int)";
  }
  apply_suppressions(parse_suppressions("mutex:teardown\n", "s"), &suppressed);
  EXPECT_EQ(suppressed.races.size(), 0u);
  EXPECT_EQ(suppressed.suppressed.size(), kMaxMisuseKind);
}

// A misuse chunk of an older writer (without object, result and the mutexes)
// still reads: a mutex, the result unknown.
TEST(LockReports, OlderMisuseRecordReads) {
  std::string path = ::testing::TempDir() + "old_misuse." + std::to_string(getpid()) + ".raw";
  unlink(path.c_str());
  RawLogWriter writer;
  writer.configure(path.c_str(), 42);
  MisuseRecord m{};
  m.kind = static_cast<uint32_t>(MisuseKind::kUnlockOfUnlocked);
  m.mutex = A;
  m.object = static_cast<uint32_t>(MisuseObject::kBarrier);
  m.flags = kMisuseHasResult;
  ASSERT_TRUE(writer.append_misuse(m));
  writer.close();
  // Cut the record to its first release's size: rewrite the file by hand.
  std::FILE* f = std::fopen(path.c_str(), "rb");
  ASSERT_NE(f, nullptr);
  std::string data;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) data.append(buf, n);
  std::fclose(f);
  const size_t chunk = data.size() - sizeof(MisuseRecord) - sizeof(ChunkHeader);
  ChunkHeader header;
  std::memcpy(&header, data.data() + chunk, sizeof header);
  ASSERT_EQ(header.type, static_cast<uint32_t>(ChunkType::kMisuse));
  header.length = kMisuseRecordV1Size;
  std::memcpy(data.data() + chunk, &header, sizeof header);
  data.resize(chunk + sizeof header + kMisuseRecordV1Size);
  f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fwrite(data.data(), 1, data.size(), f);
  std::fclose(f);
  std::string error;
  std::optional<RawLog> out = read_raw_log(path, &error);
  unlink(path.c_str());
  ASSERT_TRUE(out) << error;
  EXPECT_TRUE(error.empty()) << error;
  ASSERT_EQ(out->misuses.size(), 1u);
  EXPECT_EQ(out->misuses[0].mutex, A);
  EXPECT_EQ(out->misuses[0].object, 0u);
  EXPECT_EQ(out->misuses[0].flags, 0u);
}

}  // namespace
}  // namespace racetrap
