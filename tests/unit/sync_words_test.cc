// sync_words_test.cc — learning hand-written synchronization: the spin-wait and
// lock-word recognisers of the decoder, and the learned-word table (association,
// release and acquire through a word's clock). Encodings are given in AT&T syntax
// next to their bytes (checked with `objdump -D -b binary -mi386:x86-64`).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "decoder.h"
#include "sync_words.h"

namespace racetrap {
namespace {

constexpr uint64_t kBase = 0x401000;

// 0: mov 0x10(%rip),%eax; 6: test %eax,%eax; 8: je 0xe; a: pause; c: jmp 0x0
const std::vector<uint8_t> kSpin = {0x8b, 0x05, 0x10, 0x00, 0x00, 0x00, 0x85, 0xc0, 0x74, 0x04, 0xf3, 0x90, 0xeb, 0xf2};
// 0: mov (%rdi,%rcx,8),%rax; 4: add %rax,%rdx; 7: inc %rcx; a: cmp %rsi,%rcx; d: jne 0x0
const std::vector<uint8_t> kReduction = {0x48, 0x8b, 0x04, 0xcf, 0x48, 0x01, 0xc2, 0x48,
                                         0xff, 0xc1, 0x48, 0x39, 0xf1, 0x75, 0xf1};
// 0: mov $1,%eax; 5: xchg %eax,0x1000(%rip); b: test %eax,%eax; d: jne 0x5;
// f: add %rcx,0x2000(%rip); 16: movl $0,0xfe5(%rip) (the word again); 20: ret
const std::vector<uint8_t> kLockLoop = {0xb8, 0x01, 0x00, 0x00, 0x00, 0x87, 0x05, 0x00, 0x10, 0x00, 0x00,
                                        0x85, 0xc0, 0x75, 0xf6, 0x48, 0x01, 0x0d, 0x00, 0x20, 0x00, 0x00,
                                        0xc7, 0x05, 0xe5, 0x0f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc3};

TEST(SpinWait, LoadRepeatedAtTheSameAddressIsASpinWait) {
  EXPECT_TRUE(is_spin_wait_load(kBase, kSpin.data(), kSpin.size(), kBase));
}

TEST(SpinWait, LoopThatMovesItsAddressIsNot) {
  EXPECT_FALSE(is_spin_wait_load(kBase, kReduction.data(), kReduction.size(), kBase));
}

TEST(SpinWait, LoopThatAlsoCountsIsNot) {
  // A poll that counts what it sees and ends after N turns (its exit does not
  // depend on the loaded value): 0: mov 0x10(%rip),%eax; 6: cmp $1,%eax;
  // 9: sbb $-1,%rcx; d: sub $1,%edx; 10: jne 0x0
  const std::vector<uint8_t> code = {0x8b, 0x05, 0x10, 0x00, 0x00, 0x00, 0x83, 0xf8, 0x01,
                                     0x48, 0x83, 0xd9, 0xff, 0x83, 0xea, 0x01, 0x75, 0xee};
  EXPECT_FALSE(is_spin_wait_load(kBase, code.data(), code.size(), kBase));
}

TEST(SpinWait, StraightLineLoadIsNot) {
  // mov 0x10(%rip),%eax; ret
  const std::vector<uint8_t> code = {0x8b, 0x05, 0x10, 0x00, 0x00, 0x00, 0xc3};
  EXPECT_FALSE(is_spin_wait_load(kBase, code.data(), code.size(), kBase));
}

TEST(LockWord, XchgAndCmpxchgTakeLocksAddDoesNot) {
  EXPECT_TRUE(is_lock_word_insn(kLockLoop.data() + 5, kLockLoop.size() - 5));
  const std::vector<uint8_t> lock_cmpxchg = {0xf0, 0x0f, 0xb1, 0x0d, 0x00, 0x10, 0x00, 0x00};  // lock cmpxchg %ecx,0x1000(%rip)
  EXPECT_TRUE(is_lock_word_insn(lock_cmpxchg.data(), lock_cmpxchg.size()));
  const std::vector<uint8_t> lock_xadd = {0xf0, 0x0f, 0xc1, 0x0d, 0x00, 0x10, 0x00, 0x00};  // lock xadd %ecx,0x1000(%rip)
  EXPECT_FALSE(is_lock_word_insn(lock_xadd.data(), lock_xadd.size()));
}

TEST(SyncWordsNear, FindsTheLockOfTheLoopFromInsideIt) {
  StaticAtomicWord words[4];
  // From the test after the XCHG: the loop's back edge leads to the XCHG.
  const int n = sync_words_near(kBase + 0xb, kLockLoop.data(), kLockLoop.size(), kBase, words, 4);
  ASSERT_EQ(n, 1);
  EXPECT_EQ(words[0].pc, kBase + 5);
  EXPECT_EQ(words[0].address, kBase + 0xb + 0x1000);
  EXPECT_EQ(words[0].size, 4u);
  EXPECT_FALSE(words[0].spin_wait);
  // After the loop only the plain release store follows: nothing to learn.
  EXPECT_EQ(sync_words_near(kBase + 0xf, kLockLoop.data(), kLockLoop.size(), kBase, words, 4), 0);
}

// The loops of bench/recall/free/flag_ring.c (gcc -O1): a ring of buffers, each
// `struct slot { int full; long data[1000]; }` (8008 bytes), handed over by its
// own flag. The thread that touches a buffer's data holds the buffer's address in
// a register, and the store it makes next through that register is the buffer's
// own flag, whichever flag racetrap has learned.
constexpr uint64_t kProducerPc = 0x12a7;
// 12a7: mov %rax,%rdx; 12aa: xor %r12,%rdx; 12ad: mov %rdx,0x8(%rbx,%rax,8) (the fill);
// 12b2: add $1,%rax; 12b6: cmp $0x3e8,%rax; 12bc: jne 12a7; 12be: movl $1,(%rbx) (full = 1);
// 12c4: add $1,%r12; 12c8: lea -1(%r12),%r13d; 12cd: and $7,%r13d; 12d1: mov %r13d,%ebx (the next
// buffer); 12d4: imul $0x1f48,%rbx,%rbx; 12db: add %r14,%rbx; 12de: jmp 1295 (its spin-wait)
const std::vector<uint8_t> kProducerFill = {
    0x48, 0x89, 0xc2, 0x4c, 0x31, 0xe2, 0x48, 0x89, 0x54, 0xc3, 0x08, 0x48, 0x83, 0xc0, 0x01, 0x48,
    0x3d, 0xe8, 0x03, 0x00, 0x00, 0x75, 0xe9, 0xc7, 0x03, 0x01, 0x00, 0x00, 0x00, 0x49, 0x83, 0xc4,
    0x01, 0x45, 0x8d, 0x6c, 0x24, 0xff, 0x41, 0x83, 0xe5, 0x07, 0x44, 0x89, 0xeb, 0x48, 0x69, 0xdb,
    0x48, 0x1f, 0x00, 0x00, 0x4c, 0x01, 0xf3, 0xeb, 0xb5};
constexpr uint64_t kConsumerPc = 0x11ad;
// 11ad: add (%rax),%rdx (the read); 11b0: add $8,%rax; 11b4: cmp %rcx,%rax; 11b7: jne 11ad;
// 11b9: movl $0,(%rsi) (full = 0); 11bf: add $1,%r9d; 11c3: mov %r9d,%edi; 11c6: and $7,%edi;
// 11c9: mov %edi,%ecx; 11cb: imul $0x1f48,%rcx,%rcx; 11d2: lea (%rcx,%r8,1),%rsi (the next
// buffer); 11d6: mov (%rsi),%eax (its spin-wait); 11d8: cmp $1,%eax; 11db: je 1194; 11dd: pause;
// 11df: jmp 11d6
const std::vector<uint8_t> kConsumerRead = {
    0x48, 0x03, 0x10, 0x48, 0x83, 0xc0, 0x08, 0x48, 0x39, 0xc8, 0x75, 0xf4, 0xc7, 0x06, 0x00, 0x00,
    0x00, 0x00, 0x41, 0x83, 0xc1, 0x01, 0x44, 0x89, 0xcf, 0x83, 0xe7, 0x07, 0x89, 0xf9, 0x48, 0x69,
    0xc9, 0x48, 0x1f, 0x00, 0x00, 0x4a, 0x8d, 0x34, 0x01, 0x8b, 0x06, 0x83, 0xf8, 0x01, 0x74, 0xb7,
    0xf3, 0x90, 0xeb, 0xf5};
constexpr uint64_t kRing = 0x604060, kSlotBytes = 8008;

TEST(PointerStoresAhead, TheProducerSetsTheFlagOfTheBufferItFills) {
  CpuRegisters regs;
  const uint64_t buffer = kRing + 3 * kSlotBytes;
  regs.gpr[kRbx] = buffer;
  regs.gpr[kRax] = 500;  // in the middle of the fill
  // From the instruction after the fill's store (where its trap leaves the thread).
  PointerStore stores[4];
  const int n = pointer_stores_ahead(regs, kProducerPc + 0xb, kProducerFill.data(), kProducerFill.size(),
                                     kProducerPc, stores, 4);
  // The fill's own store is indexed, and the next buffer's address is computed
  // after the flag store: only the flag of this buffer.
  ASSERT_EQ(n, 1);
  EXPECT_EQ(stores[0].address, buffer);
  EXPECT_EQ(stores[0].size, 4u);
  EXPECT_EQ(stores[0].pc, kProducerPc + 0x17);
}

TEST(PointerStoresAhead, TheConsumerClearsTheFlagOfTheBufferItReads) {
  CpuRegisters regs;
  const uint64_t buffer = kRing + 6 * kSlotBytes;
  regs.gpr[kRsi] = buffer;
  regs.gpr[kRax] = buffer + 8 + 8 * 200;
  regs.gpr[kRcx] = buffer + 8 + 8 * 1000;
  PointerStore stores[4];
  const int n = pointer_stores_ahead(regs, kConsumerPc + 3, kConsumerRead.data(), kConsumerRead.size(),
                                     kConsumerPc, stores, 4);
  ASSERT_EQ(n, 1);
  EXPECT_EQ(stores[0].address, buffer);
  EXPECT_EQ(stores[0].pc, kConsumerPc + 0xc);
}

TEST(PointerStoresAhead, AStoreThroughARegisterWrittenOnTheWayIsNotKnown) {
  // 0: mov %rdi,%rsi; 3: movl $0,(%rsi); 9: ret — rsi changes before the store.
  const std::vector<uint8_t> code = {0x48, 0x89, 0xfe, 0xc7, 0x06, 0x00, 0x00, 0x00, 0x00, 0xc3};
  CpuRegisters regs;
  regs.gpr[kRsi] = 0x5000;
  regs.gpr[kRdi] = 0x6000;
  PointerStore stores[4];
  EXPECT_EQ(pointer_stores_ahead(regs, kBase, code.data(), code.size(), kBase, stores, 4), 0);
}

// The producer's whole round, 1293..12e0: its spin-wait on the buffer's flag
// (1293: pause; 1295: mov (%rbx),%eax; 1297: test %eax,%eax; 1299: jne 1293), the
// end test (129b: test %ecx,%ecx; 129d: je 12e0; 129f: sub $1,%ecx; 12a2: mov $0,%eax),
// then kProducerFill from 12a7 on.
constexpr uint64_t kProducerRoundPc = 0x1293;
const std::vector<uint8_t> kProducerRound = [] {
  std::vector<uint8_t> code = {0xf3, 0x90, 0x8b, 0x03, 0x85, 0xc0, 0x75, 0xf8, 0x85, 0xc9,
                               0x74, 0x41, 0x83, 0xe9, 0x01, 0xb8, 0x00, 0x00, 0x00, 0x00};
  code.insert(code.end(), kProducerFill.begin(), kProducerFill.end());
  return code;
}();

TEST(SyncWordsAhead, TheProducerInItsFillReachesTheNextBuffersFlag) {
  CpuRegisters regs;
  const uint64_t buffer = kRing + 3 * kSlotBytes;
  regs.rip = kProducerPc + 0xb;  // after the fill's store, where its trap leaves the thread
  regs.gpr[kRbx] = buffer;
  regs.gpr[kRax] = 500;
  regs.gpr[kR12] = 4;  // the round: buffer (round - 1) % 8 == 3
  regs.gpr[kR14] = kRing;
  StaticAtomicWord words[2];
  // Out of the fill by its exit, past the flag store, the next buffer's address
  // computed (imul) and the jump back to the spin-wait, which loads its flag.
  const int n = sync_words_ahead(regs, kProducerRound.data(), kProducerRound.size(), kProducerRoundPc, words, 2);
  ASSERT_GE(n, 1);
  EXPECT_EQ(words[0].address, kRing + 4 * kSlotBytes);
  EXPECT_EQ(words[0].size, 4u);
  EXPECT_EQ(words[0].pc, 0x1295u);
  EXPECT_TRUE(words[0].spin_wait);
}

TEST(SyncWordsAhead, TheConsumerInItsReadReachesTheNextBuffersFlag) {
  CpuRegisters regs;
  const uint64_t buffer = kRing + 7 * kSlotBytes;
  regs.rip = kConsumerPc + 3;
  regs.gpr[kRsi] = buffer;
  regs.gpr[kRax] = buffer + 8 + 8 * 200;
  regs.gpr[kRcx] = buffer + 8 + 8 * 1000;
  regs.gpr[kR8] = kRing;
  regs.gpr[kR9] = 7;  // the round: buffer 7, then 0
  StaticAtomicWord words[2];
  const int n = sync_words_ahead(regs, kConsumerRead.data(), kConsumerRead.size(), kConsumerPc, words, 2);
  ASSERT_GE(n, 1);
  EXPECT_EQ(words[0].address, kRing);
  EXPECT_EQ(words[0].pc, 0x11d6u);
  EXPECT_TRUE(words[0].spin_wait);
}

TEST(SyncWordsAhead, APlainLoopAndItsReturnTeachNothing) {
  // kReduction then ret: the loop's exit leads to a return, no word on the way.
  std::vector<uint8_t> code = kReduction;
  code.push_back(0xc3);
  CpuRegisters regs;
  regs.rip = kBase + 4;
  regs.gpr[kRdi] = 0x5000;
  regs.gpr[kRcx] = 3;
  regs.gpr[kRsi] = 100;
  StaticAtomicWord words[2];
  EXPECT_EQ(sync_words_ahead(regs, code.data(), code.size(), kBase, words, 2), 0);
}

TEST(SyncWordsAhead, ASpinWaitWhoseAddressIsNotKnownIsNotLearned) {
  // 0: mov (%rdi),%rsi (a loaded pointer); 3: mov (%rsi),%eax; 5: test; 7: je 3 — the
  // spin-wait's address comes from memory.
  const std::vector<uint8_t> code = {0x48, 0x8b, 0x37, 0x8b, 0x06, 0x85, 0xc0, 0x74, 0xfa, 0xc3};
  CpuRegisters regs;
  regs.rip = kBase;
  regs.gpr[kRdi] = 0x5000;
  StaticAtomicWord words[2];
  EXPECT_EQ(sync_words_ahead(regs, code.data(), code.size(), kBase, words, 2), 0);
}

// A buffer of the ring whose own flag is not learned yet is associated with a
// neighbour's flag; its own flag, the store the thread makes next, is nearer.
TEST(SyncWordsTable, TheBuffersOwnFlagIsNearerThanANeighboursFlag) {
  const uint64_t own = kRing + 3 * kSlotBytes, below = kRing + 2 * kSlotBytes, above = kRing + 4 * kSlotBytes;
  const uint64_t data = own + 8 + 8 * 500;
  EXPECT_TRUE(SyncWords::nearer(own, below, data));
  EXPECT_TRUE(SyncWords::nearer(own, above, data));
  EXPECT_FALSE(SyncWords::nearer(below, own, data));
  EXPECT_FALSE(SyncWords::nearer(above, own, data));
  EXPECT_FALSE(SyncWords::nearer(own + SyncWords::kNearAddress * 2, above, data));  // too far to count
  // The ring's words learned so far: the neighbour below is associated, which the
  // thread's store to the buffer's own flag shows to be the wrong guess.
  SyncWords words;
  words.configure();
  const int neighbour = words.learn(below, 4, kConsumerPc + 0x29, kLearnedSpinWait);
  ASSERT_GE(neighbour, 0);
  EXPECT_EQ(words.associate(kConsumerPc, data), neighbour);
  EXPECT_TRUE(SyncWords::nearer(own, words.address(neighbour), data));
}

TEST(SyncWordsTable, LearnFindAssociate) {
  SyncWords words;
  words.configure();
  EXPECT_TRUE(words.empty());
  const int lock = words.learn(0x10000, 4, kBase, kLearnedAtomic);
  ASSERT_GE(lock, 0);
  EXPECT_EQ(words.learn(0x10000, 4, kBase + 8, kLearnedSpinWait), lock);  // known: same entry
  EXPECT_EQ(words.find(0x10002, 1), lock);
  EXPECT_EQ(words.find(0x10004, 4), -1);
  // Data just above the lock, code near the lock's: associated.
  EXPECT_EQ(words.associate(kBase + 0x40, 0x10008), lock);
  // Code far away, or data far away: not.
  EXPECT_EQ(words.associate(kBase + 0x100000, 0x10008), -1);
  EXPECT_EQ(words.associate(kBase + 0x40, 0x10000 + 0x100000), -1);
  // A counter is exempt but never associated.
  SyncWords counters;
  counters.configure();
  counters.learn(0x20000, 8, kBase, kLearnedCounter);
  EXPECT_EQ(counters.find(0x20000, 8), 0);
  EXPECT_EQ(counters.associate(kBase, 0x20008), -1);
  // Freed memory: the word is data again.
  words.forget_range(0x10000, 64);
  EXPECT_EQ(words.find(0x10000, 4), -1);
}

TEST(SyncWordsTable, ReleaseThenAcquireOrders) {
  SyncWords words;
  words.configure();
  const int w = words.learn(0x10000, 4, kBase, kLearnedAtomic);
  VectorClock owner, other;
  owner.reserve(kMaxThreadSlots);
  other.reserve(kMaxThreadSlots);
  owner.set(0, 5);
  other.set(1, 3);
  EXPECT_FALSE(words.released_since(w, 0, 5));
  words.release(w, owner);
  EXPECT_TRUE(words.released_since(w, 0, 5));
  EXPECT_FALSE(words.released_since(w, 0, 6));
  words.acquire(w, other);
  EXPECT_EQ(other.get(0), 5u);
  EXPECT_EQ(other.get(1), 3u);
}

}  // namespace
}  // namespace racetrap
