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
