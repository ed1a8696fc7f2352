// interleave_test.cc — exact interleavings of simulated threads through the
// engine the preload runs on (registry, vector clocks, sync clocks, watch board,
// the happens-before edges, should_arm, build_watch, judge_trap), one schedule per
// test; every test checks the scheduler reported no error (or exactly the one it
// provokes).
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "fiber_scheduler.h"

namespace racetrap::interleave {
namespace {

constexpr uintptr_t kX = 0x10000;  // shared data
constexpr uintptr_t kY = 0x10100;
constexpr uintptr_t kM = 0x20000;  // mutexes
constexpr uintptr_t kM1 = 0x20040;
constexpr uintptr_t kM2 = 0x20080;
constexpr uintptr_t kCv = 0x30000;

MemoryAccess write_at(uint64_t address, uint32_t size = 8) {
  MemoryAccess a;
  a.pc = 0x401000 + (address & 0xfff);
  a.address = address;
  a.size = size;
  a.insn_length = 4;
  a.kind = AccessKind::kWrite;
  return a;
}

MemoryAccess read_at(uint64_t address, uint32_t size = 8) {
  MemoryAccess a = write_at(address, size);
  a.pc += 0x100;
  a.kind = AccessKind::kRead;
  return a;
}

std::string describe(const std::vector<TouchResult>& rs) {
  std::string s;
  for (const auto& r : rs) s += std::string(trap_verdict_name(r.verdict)) + " ";
  return s.empty() ? "(no trap)" : s;
}

// The single verdict `t` recorded.
#define EXPECT_VERDICT(sched, tid, expected)                                                \
  do {                                                                                      \
    const auto& rs_ = (sched).thread(tid).touches();                                        \
    ASSERT_EQ(rs_.size(), 1u) << describe(rs_);                                             \
    EXPECT_EQ(rs_[0].verdict, (expected)) << "got " << trap_verdict_name(rs_[0].verdict);   \
  } while (0)

// `t` made its accesses and none of them trapped: the preload never arms a watch
// that is already ordered before the thread, nor fires a W register on a read.
#define EXPECT_NOT_TRAPPED(sched, tid)                                                  \
  do {                                                                                  \
    EXPECT_GT((sched).thread(tid).touch_calls(), 0) << "the script never touched";      \
    EXPECT_TRUE((sched).thread(tid).touches().empty()) << describe((sched).thread(tid).touches()); \
  } while (0)

#define EXPECT_NO_SCHED_ERRORS(sched)                                                  \
  do {                                                                                 \
    for (const auto& e_ : (sched).errors()) ADD_FAILURE() << "scheduler: " << e_;      \
  } while (0)

// ---------------------------------------------------------------- basics

TEST(Interleave, WriteWriteUnorderedIsARace) {
  Scheduler s;
  ThreadId a = s.add_root("A", [](SimThread& t) { EXPECT_GE(t.sample(write_at(kX)), 0); });
  ThreadId b = s.add_root("B", [](SimThread& t) { t.touch(write_at(kX)); });
  ASSERT_TRUE(s.run({a, b}));
  EXPECT_NO_SCHED_ERRORS(s);
  EXPECT_VERDICT(s, b, TrapVerdict::kRace);
}

TEST(Interleave, SiblingsCreatedByMainStillRace) {
  // Both workers inherit main's clock at creation; that orders nothing between them.
  Scheduler s;
  ThreadId wa = -1, wb = -1;
  ThreadId main = s.add_root("main", [&](SimThread& t) {
    t.create(wa);
    t.create(wb);
    t.yield();
    t.join(wa);
    t.join(wb);
  });
  wa = s.add_child("A", [](SimThread& t) { ASSERT_GE(t.sample(write_at(kX)), 0); });
  wb = s.add_child("B", [](SimThread& t) { t.touch(write_at(kX)); });
  ASSERT_TRUE(s.run({main, wa, wb}));
  ASSERT_TRUE(s.run_to_completion());
  EXPECT_NO_SCHED_ERRORS(s);
  EXPECT_VERDICT(s, wb, TrapVerdict::kRace);
}

TEST(Interleave, OwnWatchIsNeverJudged) {
  Scheduler s;
  ThreadId a = s.add_root("A", [](SimThread& t) {
    ASSERT_GE(t.sample(write_at(kX)), 0);
    t.touch(write_at(kX));
  });
  ASSERT_TRUE(s.run({a}));
  EXPECT_TRUE(s.thread(a).touches().empty());
  EXPECT_NO_SCHED_ERRORS(s);
}

TEST(Interleave, DisjointAddressDoesNotTrap) {
  Scheduler s;
  ThreadId a = s.add_root("A", [](SimThread& t) { ASSERT_GE(t.sample(write_at(kX, 4)), 0); });
  ThreadId b = s.add_root("B", [](SimThread& t) {
    t.touch(write_at(kX + 8, 8));  // next block: the register does not fire
    t.touch(write_at(kX + 4, 4));  // the register is the 4 bytes at kX
  });
  ASSERT_TRUE(s.run({a, b}));
  EXPECT_TRUE(s.thread(b).touches().empty()) << describe(s.thread(b).touches());
  EXPECT_NO_SCHED_ERRORS(s);
}

TEST(Interleave, RegisterBlockHitButNotTheSampledBytes) {
  Scheduler s;
  // 2 bytes at kX+1 are watched with a 4-byte register at kX
  ThreadId a = s.add_root("A", [](SimThread& t) { ASSERT_GE(t.sample(write_at(kX + 1, 2)), 0); });
  ThreadId b = s.add_root("B", [](SimThread& t) { t.touch(write_at(kX + 3, 1)); });
  ASSERT_TRUE(s.run({a, b}));
  EXPECT_VERDICT(s, b, TrapVerdict::kNoOverlap);
  EXPECT_NO_SCHED_ERRORS(s);
}

TEST(Interleave, ReadOfASampledReadDoesNotTrap) {
  Scheduler s;
  int slot = -1;
  ThreadId a = s.add_root("A", [&](SimThread& t) { slot = t.sample(read_at(kX)); });
  ThreadId b = s.add_root("B", [](SimThread& t) { t.touch(read_at(kX)); });
  ASSERT_TRUE(s.run({a, b}));
  EXPECT_NO_SCHED_ERRORS(s);
  ASSERT_GE(slot, 0);
  EXPECT_NE(s.thread(b).armed_generation(slot), 0u);  // B armed a W register on it...
  EXPECT_NOT_TRAPPED(s, b);                            // ...which a read does not fire
}

TEST(Interleave, SampledReadThenUnorderedWriteIsARace) {
  Scheduler s;
  ThreadId a = s.add_root("A", [](SimThread& t) { ASSERT_GE(t.sample(read_at(kX)), 0); });
  ThreadId b = s.add_root("B", [](SimThread& t) { t.touch(write_at(kX)); });
  ASSERT_TRUE(s.run({a, b}));
  EXPECT_VERDICT(s, b, TrapVerdict::kRace);
  EXPECT_NO_SCHED_ERRORS(s);
}

// ---------------------------------------------------------------- mutexes

TEST(Interleave, MutexOrdersWriteBeforeWrite) {
  Scheduler s;
  ThreadId a = s.add_root("A", [](SimThread& t) {
    t.lock(kM);
    ASSERT_GE(t.sample(write_at(kX)), 0);
    t.unlock(kM);
  });
  ThreadId b = s.add_root("B", [](SimThread& t) {
    t.lock(kM);
    t.touch(write_at(kX));
    t.unlock(kM);
  });
  ASSERT_TRUE(s.run({a, b}));
  EXPECT_NO_SCHED_ERRORS(s);
  EXPECT_NOT_TRAPPED(s, b);
}

TEST(Interleave, MutexExclusionBlocksTheSecondLocker) {
  // A holds m across a yield; B is scheduled while A holds it and must wait.
  Scheduler s;
  bool b_in = false;
  ThreadId a = s.add_root("A", [](SimThread& t) {
    t.lock(kM);
    ASSERT_GE(t.sample(write_at(kX)), 0);
    t.yield();
    t.unlock(kM);
  });
  ThreadId b = s.add_root("B", [&](SimThread& t) {
    t.lock(kM);
    b_in = true;
    t.touch(write_at(kX));
    t.unlock(kM);
  });
  ASSERT_TRUE(s.run({a, b, b}));
  EXPECT_FALSE(b_in) << "B entered the critical section A holds";
  EXPECT_TRUE(s.thread(b).touches().empty());
  ASSERT_TRUE(s.run({a, b}));
  EXPECT_TRUE(b_in);
  EXPECT_TRUE(s.thread(a).finished());
  EXPECT_TRUE(s.thread(b).finished());
  EXPECT_NO_SCHED_ERRORS(s);
  EXPECT_NOT_TRAPPED(s, b);
}

TEST(Interleave, MutexOnlyOnOneSideIsARace) {
  Scheduler s;
  ThreadId a = s.add_root("A", [](SimThread& t) {
    t.lock(kM);
    ASSERT_GE(t.sample(write_at(kX)), 0);
    t.unlock(kM);
  });
  ThreadId b = s.add_root("B", [](SimThread& t) { t.touch(write_at(kX)); });
  ASSERT_TRUE(s.run({a, b}));
  EXPECT_VERDICT(s, b, TrapVerdict::kRace);
  EXPECT_NO_SCHED_ERRORS(s);
}

TEST(Interleave, WrongLockIsARace) {
  Scheduler s;
  ThreadId a = s.add_root("A", [](SimThread& t) {
    t.lock(kM1);
    ASSERT_GE(t.sample(write_at(kX)), 0);
    t.unlock(kM1);
  });
  ThreadId b = s.add_root("B", [](SimThread& t) {
    t.lock(kM2);
    t.touch(write_at(kX));
    t.unlock(kM2);
  });
  ASSERT_TRUE(s.run({a, b}));
  EXPECT_NO_SCHED_ERRORS(s);
  EXPECT_VERDICT(s, b, TrapVerdict::kRace);
}

TEST(Interleave, UnrelatedMutexDoesNotOrder) {
  // A: access then unlock m1. B: lock/unlock m2 (nobody released m2 after the
  // access), then touch.
  Scheduler s;
  ThreadId a = s.add_root("A", [](SimThread& t) {
    t.lock(kM1);
    ASSERT_GE(t.sample(write_at(kX)), 0);
    t.unlock(kM1);
  });
  ThreadId b = s.add_root("B", [](SimThread& t) {
    t.lock(kM2);
    t.unlock(kM2);
    t.touch(read_at(kX));
  });
  ASSERT_TRUE(s.run({a, b}));
  EXPECT_VERDICT(s, b, TrapVerdict::kRace);
  EXPECT_NO_SCHED_ERRORS(s);
}

TEST(Interleave, AccessAfterUnlockIsNotCoveredByThatUnlock) {
  // A: lock; unlock; write x. B: lock (gets A's clock up to the unlock); touch.
  Scheduler s;
  ThreadId a = s.add_root("A", [](SimThread& t) {
    t.lock(kM);
    t.unlock(kM);
    ASSERT_GE(t.sample(write_at(kX)), 0);
  });
  ThreadId b = s.add_root("B", [](SimThread& t) {
    t.lock(kM);
    t.touch(write_at(kX));
    t.unlock(kM);
  });
  ASSERT_TRUE(s.run({a, b}));
  EXPECT_VERDICT(s, b, TrapVerdict::kRace);
  EXPECT_NO_SCHED_ERRORS(s);
}

TEST(Interleave, RaceTrapsOnceAndRetiresTheWatch) {
  Scheduler s;
  int slot = -1;
  ThreadId a = s.add_root("A", [&](SimThread& t) {
    t.lock(kM);
    slot = t.sample(write_at(kX));
    t.unlock(kM);
  });
  ThreadId b = s.add_root("B", [](SimThread& t) {
    auto before = t.touch(read_at(kX));
    ASSERT_EQ(before.size(), 1u);
    EXPECT_EQ(before[0].verdict, TrapVerdict::kRace);
    t.lock(kM);
    EXPECT_TRUE(t.touch(read_at(kX)).empty());  // one-shot, and the race retired the watch
    t.unlock(kM);
  });
  ASSERT_TRUE(s.run({a, b}));
  EXPECT_NO_SCHED_ERRORS(s);
  ASSERT_GE(slot, 0);
  Watch w;
  EXPECT_EQ(s.board().read(slot, &w, false), 0u) << "the raced-on watch is still on the board";
  EXPECT_EQ(s.thread(b).touches().size(), 1u);
}

TEST(Interleave, ArmedBeforeTheAcquireTrapsAsOrdered) {
  // B arms while still unordered (a tick), then acquires the lock A released: the
  // board did not change, so the register stays armed, and the access traps with
  // the verdict "ordered" (not reported).
  Scheduler s;
  ThreadId a = s.add_root("A", [](SimThread& t) {
    t.lock(kM);
    ASSERT_GE(t.sample(write_at(kX)), 0);
    t.unlock(kM);
  });
  ThreadId b = s.add_root("B", [](SimThread& t) {
    t.tick();
    t.lock(kM);
    t.touch(write_at(kX));
    t.unlock(kM);
  });
  ASSERT_TRUE(s.run({a, b}));
  EXPECT_NO_SCHED_ERRORS(s);
  EXPECT_VERDICT(s, b, TrapVerdict::kOrdered);
}

// A writes x under m1; B takes m1 then m2; C touches x under m2. Whether C is
// ordered after A depends on the schedule.
std::tuple<ThreadId, ThreadId, ThreadId> add_mutex_chain(Scheduler& s) {
  ThreadId a = s.add_root("A", [](SimThread& t) {
    t.lock(kM1);
    ASSERT_GE(t.sample(write_at(kX)), 0);
    t.unlock(kM1);
  });
  ThreadId b = s.add_root("B", [](SimThread& t) {
    t.lock(kM1);
    t.unlock(kM1);
    t.lock(kM2);
    t.unlock(kM2);
  });
  ThreadId c = s.add_root("C", [](SimThread& t) {
    t.lock(kM2);
    t.touch(write_at(kX));
    t.unlock(kM2);
  });
  return {a, b, c};
}

TEST(Interleave, TransitivityThroughTwoMutexes) {
  // A -m1-> B -m2-> C
  Scheduler s;
  auto [a, b, c] = add_mutex_chain(s);
  ASSERT_TRUE(s.run({a, b, c}));
  EXPECT_NO_SCHED_ERRORS(s);
  EXPECT_NOT_TRAPPED(s, c);
}

TEST(Interleave, TransitivityBrokenWhenTheMiddleThreadLinksTooEarly) {
  // B passes m1 -> m2 before A's access is released through m1: C is not ordered.
  Scheduler s;
  auto [a, b, c] = add_mutex_chain(s);
  ASSERT_TRUE(s.run({b, a, c}));
  EXPECT_VERDICT(s, c, TrapVerdict::kRace);
  EXPECT_NO_SCHED_ERRORS(s);
}

// ---------------------------------------------------------------- clocks that tick at samples
// Releases do not tick and a sample does (happens_before_edges.h): after a few
// hand-offs both threads and the mutex hold the same clock (one content id), and
// the acquires and releases that follow are id comparisons. A watch published
// after that must still be judged by what happens after it.

// A and B hand m back and forth until their clocks are equal; yields between.
void hand_off(SimThread& t, int times) {
  for (int i = 0; i < times; ++i) {
    t.lock(kM);
    t.unlock(kM);
    t.yield();
  }
}

TEST(Interleave, HandOffsBeforeTheSampleDoNotOrderIt) {
  // A samples x after the hand-offs and releases nothing after it: B's later
  // lock/unlock of m (whose clock B already holds) must not order it.
  Scheduler s;
  ThreadId a = s.add_root("A", [](SimThread& t) {
    hand_off(t, 3);
    ASSERT_GE(t.sample(write_at(kX)), 0);
  });
  ThreadId b = s.add_root("B", [](SimThread& t) {
    hand_off(t, 3);
    t.lock(kM);
    t.unlock(kM);
    t.touch(write_at(kX));
  });
  ASSERT_TRUE(s.run({a, b, a, b, a, b, a, b}));
  EXPECT_NO_SCHED_ERRORS(s);
  EXPECT_VERDICT(s, b, TrapVerdict::kRace);
}

TEST(Interleave, HandOffAfterTheSampleOrdersIt) {
  // The same, but A passes m once more after its sample: B's acquire must now
  // join (A's clock changed at the sample) and B is ordered after the write.
  Scheduler s;
  ThreadId a = s.add_root("A", [](SimThread& t) {
    hand_off(t, 3);
    ASSERT_GE(t.sample(write_at(kX)), 0);
    t.lock(kM);
    t.unlock(kM);
  });
  ThreadId b = s.add_root("B", [](SimThread& t) {
    hand_off(t, 3);
    t.tick();  // armed while unordered
    t.lock(kM);
    t.touch(write_at(kX));
    t.unlock(kM);
  });
  ASSERT_TRUE(s.run({a, b, a, b, a, b, a, b}));
  EXPECT_NO_SCHED_ERRORS(s);
  EXPECT_VERDICT(s, b, TrapVerdict::kOrdered);
}

TEST(Interleave, SampleReachesAThirdThreadOnlyThroughLaterHandOffs) {
  // A, B and C share m until their clocks are equal. A samples x. C takes m before
  // A passes it on and then arms (a tick): that acquire must not have ordered it.
  // A passes m to B, B to C: C's access is now ordered (through B), and since C
  // armed before, the trap says so.
  Scheduler s;
  ThreadId a = s.add_root("A", [](SimThread& t) {
    hand_off(t, 2);
    ASSERT_GE(t.sample(write_at(kX)), 0);
    t.yield();
    t.lock(kM);
    t.unlock(kM);
  });
  ThreadId b = s.add_root("B", [](SimThread& t) {
    hand_off(t, 2);
    t.lock(kM);
    t.unlock(kM);
  });
  ThreadId c = s.add_root("C", [](SimThread& t) {
    hand_off(t, 2);
    t.lock(kM);
    t.unlock(kM);
    t.tick();  // arms only while unordered
    t.yield();
    t.lock(kM);
    t.touch(write_at(kX));
    t.unlock(kM);
  });
  // two rounds of hand-offs; A samples; C; A, then B pass m; C again
  ASSERT_TRUE(s.run({a, b, c, a, b, c, a, c, a, b, c}));
  EXPECT_NO_SCHED_ERRORS(s);
  EXPECT_VERDICT(s, c, TrapVerdict::kOrdered);
}

// ---------------------------------------------------------------- create / join

TEST(Interleave, WriteBeforeCreateIsOrderedBeforeChild) {
  Scheduler s;
  ThreadId child = -1;
  ThreadId parent = s.add_root("parent", [&](SimThread& t) {
    ASSERT_GE(t.sample(write_at(kX)), 0);
    t.create(child);
    t.join(child);
  });
  child = s.add_child("child", [](SimThread& t) { t.touch(write_at(kX)); });
  ASSERT_TRUE(s.run({parent, child}));
  ASSERT_TRUE(s.run_to_completion());
  EXPECT_NO_SCHED_ERRORS(s);
  EXPECT_NOT_TRAPPED(s, child);
}

TEST(Interleave, ParentWriteAfterCreateRacesWithChild) {
  Scheduler s;
  ThreadId child = -1;
  ThreadId parent = s.add_root("parent", [&](SimThread& t) {
    t.create(child);
    ASSERT_GE(t.sample(write_at(kX)), 0);
    t.yield();
    t.join(child);
  });
  child = s.add_child("child", [](SimThread& t) { t.touch(read_at(kX)); });
  ASSERT_TRUE(s.run({parent, child, parent}));
  EXPECT_NO_SCHED_ERRORS(s);
  EXPECT_VERDICT(s, child, TrapVerdict::kRace);
}

TEST(Interleave, GrandchildIsOrderedAfterGrandparentsWrite) {
  Scheduler s;
  ThreadId child = -1, grandchild = -1;
  ThreadId main = s.add_root("main", [&](SimThread& t) {
    ASSERT_GE(t.sample(write_at(kX)), 0);
    t.create(child);
  });
  child = s.add_child("child", [&](SimThread& t) { t.create(grandchild); });
  grandchild = s.add_child("grandchild", [](SimThread& t) { t.touch(write_at(kX)); });
  ASSERT_TRUE(s.run({main, child, grandchild}));
  EXPECT_NOT_TRAPPED(s, grandchild);
  EXPECT_NO_SCHED_ERRORS(s);
}

TEST(Interleave, ChildWriteIsOrderedBeforeParentAfterJoin) {
  Scheduler s;
  ThreadId child = -1;
  ThreadId parent = s.add_root("parent", [&](SimThread& t) {
    t.create(child);
    t.join(child);
    t.touch(write_at(kX));
  });
  child = s.add_child("child", [](SimThread& t) { ASSERT_GE(t.sample(write_at(kX)), 0); });
  // parent blocks in join until the child has run
  ASSERT_TRUE(s.run({parent, child, parent}));
  EXPECT_TRUE(s.thread(parent).finished());
  EXPECT_NO_SCHED_ERRORS(s);
  EXPECT_NOT_TRAPPED(s, parent);
}

TEST(Interleave, ParentTouchBeforeJoinIsARace) {
  Scheduler s;
  ThreadId child = -1;
  ThreadId parent = s.add_root("parent", [&](SimThread& t) {
    t.create(child);
    t.yield();
    t.touch(write_at(kX));
    t.join(child);
  });
  child = s.add_child("child", [](SimThread& t) { ASSERT_GE(t.sample(write_at(kX)), 0); });
  ASSERT_TRUE(s.run({parent, child, parent}));
  EXPECT_TRUE(s.thread(parent).finished());
  EXPECT_NO_SCHED_ERRORS(s);
  EXPECT_VERDICT(s, parent, TrapVerdict::kRace);
}

TEST(Interleave, ParentTouchBeforeJoinRacesEvenAfterChildFinished) {
  // The child has ended, but the parent has not joined it: still unordered.
  Scheduler s;
  ThreadId child = -1;
  ThreadId parent = s.add_root("parent", [&](SimThread& t) {
    t.create(child);
    t.yield();
    t.touch(write_at(kX));
    t.join(child);
  });
  child = s.add_child("child", [](SimThread& t) { ASSERT_GE(t.sample(write_at(kX)), 0); });
  ASSERT_TRUE(s.run({parent, child}));
  ASSERT_TRUE(s.thread(child).finished());
  ASSERT_TRUE(s.run({parent}));
  EXPECT_VERDICT(s, parent, TrapVerdict::kRace);
  EXPECT_NO_SCHED_ERRORS(s);
}

// ---------------------------------------------------------------- condition variables

TEST(Interleave, CondvarProducerConsumerIsOrdered) {
  Scheduler s;
  bool ready = false;  // simulated shared flag, protected by kM
  ThreadId consumer = s.add_root("consumer", [&](SimThread& t) {
    t.lock(kM);
    while (!ready) t.wait(kCv, kM);
    t.touch(read_at(kX));
    t.unlock(kM);
  });
  ThreadId producer = s.add_root("producer", [&](SimThread& t) {
    t.lock(kM);
    ASSERT_GE(t.sample(write_at(kX)), 0);
    ready = true;
    t.signal(kCv);
    t.unlock(kM);
  });
  // consumer waits, producer produces, consumer wakes
  ASSERT_TRUE(s.run({consumer, producer, consumer}));
  EXPECT_TRUE(s.thread(consumer).finished());
  EXPECT_NO_SCHED_ERRORS(s);
  EXPECT_NOT_TRAPPED(s, consumer);
}

TEST(Interleave, CondvarWakeupWhileProducerStillHoldsTheMutex) {
  // The consumer is scheduled between signal and unlock: it is woken but must wait
  // for the mutex.
  Scheduler s;
  bool ready = false;
  ThreadId consumer = s.add_root("consumer", [&](SimThread& t) {
    t.lock(kM);
    while (!ready) t.wait(kCv, kM);
    t.touch(read_at(kX));
    t.unlock(kM);
  });
  ThreadId producer = s.add_root("producer", [&](SimThread& t) {
    t.lock(kM);
    ASSERT_GE(t.sample(write_at(kX)), 0);
    ready = true;
    t.signal(kCv);
    t.yield();
    t.unlock(kM);
  });
  ASSERT_TRUE(s.run({consumer, producer, consumer, consumer}));
  EXPECT_FALSE(s.thread(consumer).finished());
  EXPECT_TRUE(s.thread(consumer).touches().empty());
  ASSERT_TRUE(s.run({producer, consumer}));
  EXPECT_TRUE(s.thread(consumer).finished());
  EXPECT_NO_SCHED_ERRORS(s);
  EXPECT_NOT_TRAPPED(s, consumer);
}

TEST(Interleave, CondvarSignalAloneOrders) {
  // The producer writes and signals without taking the mutex: the edge comes from
  // the condition variable alone (the mutex clock holds only the consumer's history).
  Scheduler s;
  ThreadId consumer = s.add_root("consumer", [&](SimThread& t) {
    t.lock(kM);
    t.wait(kCv, kM);
    t.touch(read_at(kX));
    t.unlock(kM);
  });
  ThreadId producer = s.add_root("producer", [&](SimThread& t) {
    ASSERT_GE(t.sample(write_at(kX)), 0);
    t.signal(kCv);
  });
  ASSERT_TRUE(s.run({consumer, producer, consumer}));
  EXPECT_TRUE(s.thread(consumer).finished());
  EXPECT_NOT_TRAPPED(s, consumer);
  EXPECT_NO_SCHED_ERRORS(s);
}

TEST(Interleave, WriteAfterSignalIsNotOrdered) {
  Scheduler s;
  ThreadId consumer = s.add_root("consumer", [&](SimThread& t) {
    t.lock(kM);
    t.wait(kCv, kM);
    t.unlock(kM);
    t.yield();
    t.touch(read_at(kX));
  });
  ThreadId producer = s.add_root("producer", [&](SimThread& t) {
    t.signal(kCv);
    ASSERT_GE(t.sample(write_at(kX)), 0);
  });
  ASSERT_TRUE(s.run({consumer, producer, consumer, consumer}));
  EXPECT_TRUE(s.thread(consumer).finished());
  EXPECT_VERDICT(s, consumer, TrapVerdict::kRace);
  EXPECT_NO_SCHED_ERRORS(s);
}

TEST(Interleave, BroadcastWakesAllConsumersOrdered) {
  Scheduler s;
  bool ready = false;
  auto consumer_script = [&](SimThread& t) {
    t.lock(kM);
    while (!ready) t.wait(kCv, kM);
    t.unlock(kM);
    t.touch(read_at(kX));
  };
  ThreadId c1 = s.add_root("c1", consumer_script);
  ThreadId c2 = s.add_root("c2", consumer_script);
  ThreadId producer = s.add_root("producer", [&](SimThread& t) {
    ASSERT_GE(t.sample(write_at(kX)), 0);
    t.lock(kM);
    ready = true;
    t.broadcast(kCv);
    t.unlock(kM);
  });
  ASSERT_TRUE(s.run({c1, c2, producer, c2, c1}));
  EXPECT_TRUE(s.thread(c1).finished());
  EXPECT_TRUE(s.thread(c2).finished());
  EXPECT_NO_SCHED_ERRORS(s);
  EXPECT_NOT_TRAPPED(s, c1);
  EXPECT_NOT_TRAPPED(s, c2);
}

TEST(Interleave, SignalWakesOnlyOneWaiter) {
  Scheduler s;
  int woken = 0;
  auto waiter = [&](SimThread& t) {
    t.lock(kM);
    t.wait(kCv, kM);
    ++woken;
    t.unlock(kM);
  };
  ThreadId w1 = s.add_root("w1", waiter);
  ThreadId w2 = s.add_root("w2", waiter);
  ThreadId sig = s.add_root("signaller", [](SimThread& t) { t.signal(kCv); });
  ASSERT_TRUE(s.run({w1, w2, sig, w1, w2}));
  EXPECT_EQ(woken, 1);
  EXPECT_TRUE(s.thread(w1).finished());   // FIFO: the first waiter
  EXPECT_FALSE(s.thread(w2).finished());
  EXPECT_FALSE(s.run_to_completion());    // w2 waits forever
  ASSERT_EQ(s.errors().size(), 1u);       // and that is the only error
  EXPECT_NE(s.errors()[0].find("deadlock"), std::string::npos) << s.errors()[0];
}

// ---------------------------------------------------------------- slot reuse

TEST(Interleave, ReusedSlotIsNotMistakenForTheOldThread) {
  // T1 runs a critical section and exits; T2 synchronizes with T1 through m; main
  // joins T1 (its slot is released with its last epoch) and creates T3, which
  // reuses T1's slot. T3's write is unordered with T2's access, although T2's clock
  // holds an epoch for that slot.
  Scheduler s;
  ThreadId t1 = -1, t2 = -1, t3 = -1;
  ThreadId main = s.add_root("main", [&](SimThread& t) {
    t.create(t1);
    t.create(t2);
    t.yield();
    t.join(t1);
    t.create(t3);
    t.yield();
    t.join(t3);
    t.join(t2);
  });
  t1 = s.add_child("T1", [](SimThread& t) {
    t.lock(kM);
    t.unlock(kM);
    t.lock(kM);
    t.unlock(kM);
  });
  t2 = s.add_child("T2", [](SimThread& t) {
    t.lock(kM);  // after T1's critical sections
    t.unlock(kM);
    t.yield();
    t.touch(write_at(kX));
  });
  t3 = s.add_child("T3", [](SimThread& t) { ASSERT_GE(t.sample(write_at(kX)), 0); });
  ASSERT_TRUE(s.run({main, t1, t2}));
  ASSERT_TRUE(s.thread(t1).finished());
  const uint32_t t1_slot = s.thread(t1).slot();
  const Epoch seen = s.thread(t2).clock().get(t1_slot);
  EXPECT_GT(seen, 0u) << "T2 synchronized with T1";
  ASSERT_TRUE(s.run({main}));  // join T1, create T3
  ASSERT_TRUE(s.thread(t3).started());
  EXPECT_EQ(s.thread(t3).slot(), t1_slot) << "the slot is reused";
  EXPECT_NE(s.thread(t3).uid(), s.thread(t1).uid());
  EXPECT_GT(s.thread(t3).epoch(), seen);
  ASSERT_TRUE(s.run({t3, t2}));
  ASSERT_TRUE(s.run_to_completion());
  EXPECT_NO_SCHED_ERRORS(s);
  EXPECT_VERDICT(s, t2, TrapVerdict::kRace);
}

TEST(Interleave, ReusedSlotStillOrderedThroughRealSync) {
  // Same reuse, but T3 releases m after its write and T2 acquires it: ordered.
  Scheduler s;
  ThreadId t1 = -1, t2 = -1, t3 = -1;
  ThreadId main = s.add_root("main", [&](SimThread& t) {
    t.create(t1);
    t.create(t2);
    t.yield();
    t.join(t1);
    t.create(t3);
    t.join(t3);
    t.join(t2);
  });
  t1 = s.add_child("T1", [](SimThread& t) {
    t.lock(kM);
    t.unlock(kM);
  });
  t2 = s.add_child("T2", [](SimThread& t) {
    t.lock(kM);
    t.unlock(kM);
    t.yield();
    t.lock(kM);
    t.touch(write_at(kX));
    t.unlock(kM);
  });
  t3 = s.add_child("T3", [](SimThread& t) {
    t.lock(kM);
    ASSERT_GE(t.sample(write_at(kX)), 0);
    t.unlock(kM);
  });
  ASSERT_TRUE(s.run({main, t1, t2, main, t3, t2}));
  EXPECT_EQ(s.thread(t3).slot(), s.thread(t1).slot());
  ASSERT_TRUE(s.run_to_completion());
  EXPECT_NO_SCHED_ERRORS(s);
  EXPECT_NOT_TRAPPED(s, t2);
}

// ---------------------------------------------------------------- the scheduler itself

TEST(InterleaveScheduler, RejectsBadSchedules) {
  Scheduler s;
  ThreadId child = -1;
  ThreadId a = s.add_root("A", [](SimThread&) {});
  child = s.add_child("child", [](SimThread&) {});
  EXPECT_FALSE(s.run({child}));  // not created
  EXPECT_TRUE(s.run({a}));
  EXPECT_FALSE(s.run({a}));  // finished
  EXPECT_FALSE(s.run({42}));
  EXPECT_EQ(s.errors().size(), 3u);
}

TEST(InterleaveScheduler, DetectsDeadlock) {
  Scheduler s;
  ThreadId a = s.add_root("A", [](SimThread& t) {
    t.lock(kM1);
    t.yield();
    t.lock(kM2);
  });
  ThreadId b = s.add_root("B", [](SimThread& t) {
    t.lock(kM2);
    t.yield();
    t.lock(kM1);
  });
  ASSERT_TRUE(s.run({a, b}));
  EXPECT_FALSE(s.run_to_completion());
  ASSERT_FALSE(s.errors().empty());
  EXPECT_NE(s.errors().back().find("deadlock"), std::string::npos);
}

TEST(InterleaveScheduler, ThreadsGetDistinctSlotsAndUids) {
  Scheduler s;
  std::vector<ThreadId> kids;
  ThreadId main = s.add_root("main", [&](SimThread& t) {
    for (ThreadId k : kids) t.create(k);
    for (ThreadId k : kids) t.join(k);
  });
  for (int i = 0; i < 5; ++i) kids.push_back(s.add_child(std::string("k").append(std::to_string(i)), [](SimThread&) {}));
  ASSERT_TRUE(s.run_to_completion());
  EXPECT_NO_SCHED_ERRORS(s);
  EXPECT_EQ(s.thread(main).uid(), 0u);
  std::set<uint32_t> slots{s.thread(main).slot()}, uids{s.thread(main).uid()};
  for (ThreadId k : kids) {
    slots.insert(s.thread(k).slot());
    uids.insert(s.thread(k).uid());
  }
  EXPECT_EQ(slots.size(), 6u);
  EXPECT_EQ(uids.size(), 6u);
  EXPECT_EQ(s.registry().live_slots(), 1u);  // all children joined
  // create ticked main's epoch once per child
  EXPECT_EQ(s.thread(main).epoch(), 1u + kids.size());
}

}  // namespace
}  // namespace racetrap::interleave
