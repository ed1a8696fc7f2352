// race_check_test.cc — judge_trap: every verdict and their precedence.
#include "race_check.h"

#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <string>

namespace racetrap {
namespace {

constexpr uint32_t kOwnerUid = 3;
constexpr uint32_t kOwnerSlot = 2;
constexpr uint32_t kMyUid = 7;
constexpr uint32_t kMySlot = 5;
constexpr Epoch kOwnerEpoch = 10;

MemoryAccess acc(uint64_t address, uint32_t size, AccessKind kind, bool atomic = false) {
  MemoryAccess a;
  a.pc = 0x401000;
  a.address = address;
  a.size = size;
  a.kind = kind;
  a.atomic = atomic;
  return a;
}

Watch watch(uint64_t address, uint32_t size, AccessKind kind, bool atomic = false) {
  Watch w;
  w.access = acc(address, size, kind, atomic);
  breakpoint_range_for(w.access, &w.bp_address, &w.bp_size);
  w.bp_type = writes(kind) ? BreakpointType::kReadWrite : BreakpointType::kWrite;
  w.owner_uid = kOwnerUid;
  w.owner_slot = kOwnerSlot;
  w.owner_tid = 1234;
  w.owner_epoch = kOwnerEpoch;
  return w;
}

// A clock that has seen the owner up to `seen` (0 = never).
VectorClock clock_seeing(Epoch seen) {
  VectorClock c;
  c.set(kMySlot, 4);
  if (seen != 0) c.set(kOwnerSlot, seen);
  return c;
}

TrapVerdict judge(const Watch& w, const MemoryAccess* a, Epoch seen = 0, bool atomics = false,
                  uint32_t uid = kMyUid) {
  return judge_trap(w, a, uid, clock_seeing(seen), atomics);
}

TEST(RaceCheck, VerdictNamesAreDistinct) {
  std::set<std::string> names;
  for (TrapVerdict v : {TrapVerdict::kRace, TrapVerdict::kOrdered, TrapVerdict::kSameThread,
                        TrapVerdict::kNoOverlap, TrapVerdict::kBothRead, TrapVerdict::kAtomic}) {
    const char* n = trap_verdict_name(v);
    ASSERT_NE(n, nullptr);
    EXPECT_STRNE(n, "?");
    EXPECT_TRUE(names.insert(n).second) << n;
  }
  EXPECT_STREQ(trap_verdict_name(TrapVerdict::kRace), "race");
}

TEST(RaceCheck, RaceWhenConflictingAndUnordered) {
  Watch w = watch(0x1000, 4, AccessKind::kWrite);
  MemoryAccess a = acc(0x1000, 4, AccessKind::kWrite);
  EXPECT_EQ(judge(w, &a), TrapVerdict::kRace);
  MemoryAccess r = acc(0x1002, 1, AccessKind::kRead);  // partial overlap, read vs write
  EXPECT_EQ(judge(w, &r), TrapVerdict::kRace);
  Watch wr = watch(0x1000, 4, AccessKind::kRead);
  EXPECT_EQ(judge(wr, &a), TrapVerdict::kRace);  // sampled read, later write
  MemoryAccess rmw = acc(0x1000, 8, AccessKind::kReadWrite);  // wider read-modify-write
  EXPECT_EQ(judge(wr, &rmw), TrapVerdict::kRace);
  Watch wrmw = watch(0x1000, 4, AccessKind::kReadWrite);
  MemoryAccess rd = acc(0x1003, 1, AccessKind::kRead);
  EXPECT_EQ(judge(wrmw, &rd), TrapVerdict::kRace);
}

TEST(RaceCheck, SameThread) {
  Watch w = watch(0x1000, 4, AccessKind::kWrite);
  MemoryAccess a = acc(0x1000, 4, AccessKind::kWrite);
  EXPECT_EQ(judge(w, &a, 0, false, kOwnerUid), TrapVerdict::kSameThread);
  // precedes everything else, even a non-overlapping or undecoded access
  MemoryAccess far = acc(0x2000, 4, AccessKind::kWrite);
  EXPECT_EQ(judge(w, &far, 0, false, kOwnerUid), TrapVerdict::kSameThread);
  EXPECT_EQ(judge(w, nullptr, 0, true, kOwnerUid), TrapVerdict::kSameThread);
  // a different thread that happens to reuse the owner's slot is not the same thread
  VectorClock c;
  c.set(kOwnerSlot, 1);
  EXPECT_EQ(judge_trap(w, &a, kOwnerUid + 100, c, false), TrapVerdict::kRace);
}

TEST(RaceCheck, NoOverlapAdjacentBytes) {
  // the register watches [0x1000, 0x1004) but the sampled access is [0x1001, 0x1003)
  Watch w = watch(0x1001, 2, AccessKind::kWrite);
  ASSERT_EQ(w.bp_address, 0x1000u);
  ASSERT_EQ(w.bp_size, 4u);
  MemoryAccess before = acc(0x1000, 1, AccessKind::kWrite);
  MemoryAccess after = acc(0x1003, 1, AccessKind::kWrite);
  MemoryAccess after_wide = acc(0x1003, 8, AccessKind::kWrite);
  EXPECT_EQ(judge(w, &before), TrapVerdict::kNoOverlap);
  EXPECT_EQ(judge(w, &after), TrapVerdict::kNoOverlap);
  EXPECT_EQ(judge(w, &after_wide), TrapVerdict::kNoOverlap);
  // one byte of overlap at either end is an overlap
  MemoryAccess first = acc(0x1000, 2, AccessKind::kWrite);
  MemoryAccess last = acc(0x1002, 2, AccessKind::kWrite);
  EXPECT_EQ(judge(w, &first), TrapVerdict::kRace);
  EXPECT_EQ(judge(w, &last), TrapVerdict::kRace);
  // precedence: no overlap beats both-read, atomic and ordering
  MemoryAccess atomic_after = acc(0x1003, 1, AccessKind::kReadWrite, true);
  EXPECT_EQ(judge(w, &atomic_after), TrapVerdict::kNoOverlap);
  EXPECT_EQ(judge(w, &after, kOwnerEpoch), TrapVerdict::kNoOverlap);
  Watch wr = watch(0x1001, 2, AccessKind::kRead);
  MemoryAccess read_after = acc(0x1003, 1, AccessKind::kRead);
  EXPECT_EQ(judge(wr, &read_after), TrapVerdict::kNoOverlap);
}

TEST(RaceCheck, ZeroSizeMeansOneByte) {
  Watch w = watch(0x1000, 0, AccessKind::kWrite);
  MemoryAccess same = acc(0x1000, 0, AccessKind::kWrite);
  MemoryAccess next = acc(0x1001, 0, AccessKind::kWrite);
  EXPECT_EQ(judge(w, &same), TrapVerdict::kRace);
  EXPECT_EQ(judge(w, &next), TrapVerdict::kNoOverlap);
}

TEST(RaceCheck, BothRead) {
  Watch w = watch(0x1000, 8, AccessKind::kRead);
  MemoryAccess r = acc(0x1004, 4, AccessKind::kRead);
  EXPECT_EQ(judge(w, &r), TrapVerdict::kBothRead);
  // both-read beats atomic and ordering
  MemoryAccess ar = acc(0x1004, 4, AccessKind::kRead, true);
  EXPECT_EQ(judge(w, &ar, 0, false), TrapVerdict::kBothRead);
  EXPECT_EQ(judge(w, &ar, 0, true), TrapVerdict::kBothRead);
  EXPECT_EQ(judge(w, &r, kOwnerEpoch), TrapVerdict::kBothRead);
}

TEST(RaceCheck, AtomicNotReportedByDefault) {
  Watch w = watch(0x1000, 8, AccessKind::kWrite);
  Watch wa = watch(0x1000, 8, AccessKind::kReadWrite, true);
  MemoryAccess plain = acc(0x1000, 8, AccessKind::kWrite);
  MemoryAccess atomic = acc(0x1000, 8, AccessKind::kReadWrite, true);
  MemoryAccess plain_read = acc(0x1000, 8, AccessKind::kRead);
  // trapping side atomic
  EXPECT_EQ(judge(w, &atomic, 0, false), TrapVerdict::kAtomic);
  // watched side atomic
  EXPECT_EQ(judge(wa, &plain, 0, false), TrapVerdict::kAtomic);
  EXPECT_EQ(judge(wa, &plain_read, 0, false), TrapVerdict::kAtomic);
  // both
  EXPECT_EQ(judge(wa, &atomic, 0, false), TrapVerdict::kAtomic);
}

TEST(RaceCheck, AtomicReportedWhenAsked) {
  Watch w = watch(0x1000, 8, AccessKind::kWrite);
  Watch wa = watch(0x1000, 8, AccessKind::kReadWrite, true);
  MemoryAccess plain = acc(0x1000, 8, AccessKind::kWrite);
  MemoryAccess atomic = acc(0x1000, 8, AccessKind::kReadWrite, true);
  EXPECT_EQ(judge(w, &atomic, 0, true), TrapVerdict::kRace);
  EXPECT_EQ(judge(wa, &plain, 0, true), TrapVerdict::kRace);
  EXPECT_EQ(judge(wa, &atomic, 0, true), TrapVerdict::kRace);
  // reported atomics still respect happens-before
  EXPECT_EQ(judge(wa, &atomic, kOwnerEpoch, true), TrapVerdict::kOrdered);
}

TEST(RaceCheck, OrderedWhenClockCoversOwnerEpoch) {
  Watch w = watch(0x1000, 4, AccessKind::kWrite);
  MemoryAccess a = acc(0x1000, 4, AccessKind::kRead);
  EXPECT_EQ(judge(w, &a, kOwnerEpoch), TrapVerdict::kOrdered);      // ==
  EXPECT_EQ(judge(w, &a, kOwnerEpoch + 5), TrapVerdict::kOrdered);  // >
  EXPECT_EQ(judge(w, &a, kOwnerEpoch - 1), TrapVerdict::kRace);     // one short
  EXPECT_EQ(judge(w, &a, 0), TrapVerdict::kRace);                   // never synced
  // only the owner's slot matters
  VectorClock c;
  c.set(kMySlot, 100);
  c.set(kOwnerSlot + 1, 100);
  c.set(kOwnerSlot - 1, 100);
  EXPECT_EQ(judge_trap(w, &a, kMyUid, c, false), TrapVerdict::kRace);
  c.set(kOwnerSlot, kOwnerEpoch);
  EXPECT_EQ(judge_trap(w, &a, kMyUid, c, false), TrapVerdict::kOrdered);
  // an empty clock orders nothing
  VectorClock empty;
  EXPECT_EQ(judge_trap(w, &a, kMyUid, empty, false), TrapVerdict::kRace);
}

TEST(RaceCheck, AtomicBeatsOrdered) {
  // Not reporting atomics wins before the clock is even looked at.
  Watch w = watch(0x1000, 4, AccessKind::kWrite);
  MemoryAccess atomic = acc(0x1000, 4, AccessKind::kReadWrite, true);
  EXPECT_EQ(judge(w, &atomic, kOwnerEpoch, false), TrapVerdict::kAtomic);
}

TEST(RaceCheck, UndecodableTrapOnWriteOnlyRegisterIsAWrite) {
  // A sampled read is watched with a write-only register: if it fired, something wrote.
  Watch wr = watch(0x1000, 4, AccessKind::kRead);
  ASSERT_EQ(wr.bp_type, BreakpointType::kWrite);
  EXPECT_EQ(judge(wr, nullptr), TrapVerdict::kRace);
  EXPECT_EQ(judge(wr, nullptr, kOwnerEpoch), TrapVerdict::kOrdered);
  EXPECT_EQ(judge(wr, nullptr, kOwnerEpoch - 1), TrapVerdict::kRace);
  // no overlap check without a decoded access: the register fired, so it overlapped
  Watch narrow = watch(0x1002, 1, AccessKind::kRead);
  ASSERT_EQ(narrow.bp_size, 1u);
  EXPECT_EQ(judge(narrow, nullptr), TrapVerdict::kRace);
}

TEST(RaceCheck, UndecodableTrapOnReadWriteRegister) {
  // A sampled write (RW register): whatever the trapping access was, it conflicts.
  Watch ww = watch(0x1000, 4, AccessKind::kWrite);
  ASSERT_EQ(ww.bp_type, BreakpointType::kReadWrite);
  EXPECT_EQ(judge(ww, nullptr), TrapVerdict::kRace);
  EXPECT_EQ(judge(ww, nullptr, kOwnerEpoch), TrapVerdict::kOrdered);
  // atomic watch, undecoded trap
  Watch wa = watch(0x1000, 4, AccessKind::kWrite, true);
  EXPECT_EQ(judge(wa, nullptr, 0, false), TrapVerdict::kAtomic);
  EXPECT_EQ(judge(wa, nullptr, 0, true), TrapVerdict::kRace);
  // A sampled read on an RW register (not how watches are built) and an undecoded
  // trap: the trapping side cannot be shown to write, so both count as reads.
  Watch odd = watch(0x1000, 4, AccessKind::kRead);
  odd.bp_type = BreakpointType::kReadWrite;
  EXPECT_EQ(judge(odd, nullptr), TrapVerdict::kBothRead);
}

TEST(RaceCheck, DecodedAccessOverridesRegisterType) {
  // With a decoded access the register's type is not used: a read on a W register
  // (cannot happen in hardware, but the decoder is trusted) against a sampled read.
  Watch wr = watch(0x1000, 4, AccessKind::kRead);
  MemoryAccess r = acc(0x1000, 4, AccessKind::kRead);
  EXPECT_EQ(judge(wr, &r), TrapVerdict::kBothRead);
}

}  // namespace
}  // namespace racetrap
