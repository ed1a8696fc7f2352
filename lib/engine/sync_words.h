// sync_words.h — hand-written synchronization words learned from the machine code.
//
// A program that synchronizes with its own atomics (a spin lock on an atomic_flag,
// an XCHG or CMPXCHG lock word, a ticket lock, a flag the reader spins on) makes no
// call racetrap can intercept. Its words are learned where samples land:
//   - the memory operand of a sampled LOCK-prefixed or XCHG instruction;
//   - the word a sampled spin-wait loop loads (decoder.h, is_spin_wait_load);
//   - an address the program passed to AnnotateHappensBefore/After.
// A learned word is synchronization, not data: a conflict on it is not reported
// (like an atomic access), and in value-change mode a change of it during a stall
// is not a race. In watchpoint mode a watch is associated with the learned word
// nearest to it (associate()), and happens-before flows through that word's clock
// while the watch lives (preload/signal/sync_word_edges.h): the owner's first write
// of the word after its sample releases, another thread's access of it acquires.
//
// Contract: every member except configure() is signal-safe: a fixed table, atomics,
// a per-entry spin lock that only SIGTRAP handlers take (SIGTRAP is blocked while
// one runs, so a thread never waits for itself), clock storage mapped up front.
#pragma once

#include <atomic>
#include <cstdint>

#include "spin_lock.h"
#include "vector_clock.h"

namespace racetrap {

enum SyncWordHow : uint32_t {
  kLearnedAtomic = 1,     // a LOCK-prefixed or XCHG access that takes or tests a lock (decoder.h)
  kLearnedCounter = 8,    // another LOCK-prefixed access (an atomic counter): never associated
  kLearnedSpinWait = 2,   // the load of a spin-wait loop
  kLearnedAnnotated = 4,  // AnnotateHappensBefore/After
};

class SyncWords {
 public:
  static constexpr int kCapacity = 64;
  // Most words a watch may be associated with are found near its pc in the code
  // (the same function, or the lock/unlock helpers beside it) and near its address
  // in memory (a flag or lock beside the data it guards).
  static constexpr uint64_t kNearPc = 4096;
  static constexpr uint64_t kNearAddress = 1 << 16;

  // Ordinary context, once before any thread samples: maps the clocks' storage
  // (touched only as words are used). Without it words are still learned and
  // recognised, and no clock is kept.
  void configure();

  // Records [address, address + size) (size <= 8) as learned at `pc` by `how`;
  // returns its entry, or -1 when the table is full.
  int learn(uint64_t address, uint32_t size, uint64_t pc, uint32_t how);
  // The entry whose word overlaps [address, address + size), or -1.
  int find(uint64_t address, uint32_t size) const;
  bool empty() const { return used_.load(std::memory_order_acquire) == 0; }

  // The word to carry happens-before for an access at `pc` to `address`: among the
  // lock words and spin-wait words (not counters) learned by code within kNearPc of `pc` and lying within kNearAddress of
  // `address`, the highest at or below it (a header flag or lock before the data),
  // else the lowest above it. -1 when none.
  int associate(uint64_t pc, uint64_t address) const;
  // Whether associate() would take a word at `candidate` rather than one at `word`
  // for an access to `address` (both learned near the access's code).
  static bool nearer(uint64_t candidate, uint64_t word, uint64_t address);
  uint64_t address(int i) const { return entries_[i].address.load(std::memory_order_acquire); }
  uint32_t size(int i) const { return entries_[i].size.load(std::memory_order_relaxed); }

  // The word's clock: release joins `clock` in; acquire joins the word's clock into
  // `clock`, which must have room for kMaxThreadSlots epochs (thread clocks do).
  void release(int i, const VectorClock& clock);
  void acquire(int i, VectorClock& clock);
  // Whether thread `slot` released the word at or after its epoch `epoch`.
  bool released_since(int i, uint32_t slot, Epoch epoch) const;

  // Freed or unmapped memory: words in it are data again.
  void forget_range(uint64_t address, uint64_t size);
  // In a forked child: clocks name threads that do not exist there.
  void reset_after_fork();

 private:
  struct Entry {
    std::atomic<uint64_t> address{0};  // 0: free
    std::atomic<uint32_t> size{0};
    std::atomic<uint32_t> how{0};
    std::atomic<uint64_t> pc{0};
    std::atomic<uint32_t> clock_size{0};
    SpinLock lock;  // guards the clock's epochs
  };
  Epoch* clock_of(int i) const { return clocks_ == nullptr ? nullptr : clocks_ + static_cast<size_t>(i) * kMaxThreadSlots; }

  Entry entries_[kCapacity];
  std::atomic<uint32_t> used_{0};  // entries ever filled
  Epoch* clocks_ = nullptr;        // kCapacity x kMaxThreadSlots, mapped by configure()
};

}  // namespace racetrap
