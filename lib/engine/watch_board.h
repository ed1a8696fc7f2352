// watch_board.h — the process-wide board of published watches (at most one per
// debug register). A sampling thread publishes the address it is about to touch;
// every other thread arms its own debug register i on board slot i.
// Contract: every member is signal-safe and lock-free. Each slot is a seqlock:
// a writer claims it by moving its sequence number from even to odd (a writer that
// finds it odd gives up instead of waiting); readers retry or report "busy".
#pragma once

#include <atomic>
#include <cstdint>

#include "breakpoint_type.h"
#include "memory_access.h"
#include "race_record.h"
#include "random.h"
#include "vector_clock.h"

namespace racetrap {

constexpr int kMaxWatchSlots = 4;

struct Watch {
  uint64_t bp_address = 0;  // what the debug register covers: aligned, bp_size 1/2/4/8
  uint32_t bp_size = 0;
  BreakpointType bp_type = BreakpointType::kReadWrite;  // RW for a sampled write, W for a read
  MemoryAccess access;      // the sampled access itself
  uint32_t owner_uid = 0;
  uint32_t owner_slot = 0;
  uint32_t owner_tid = 0;
  Epoch owner_epoch = 0;    // the owner's own epoch at the sample
  uint64_t published_ns = 0;  // set by publish()
  uint32_t expected_arms = 0; // other live threads at the sample (0 = unknown): once
                              // that many have armed it without a trap, it can retire early
  uint64_t value = 0;       // up to 8 bytes at bp_address at the sample
  // The learned synchronization word associated with the watch (sync_words.h), or
  // -1: its entry and the debug-register block that covers it.
  int32_t sync_word = -1;
  uint32_t sync_bp_size = 0;
  uint64_t sync_bp_address = 0;
  StackRecord stack;        // the owner's stack at the sample
  // The locks the owner held at the sample (fixed size: the slot is a seqlock
  // written from signal handlers). Copied with the stack; after it, so a
  // header-only read (arming) skips both.
  HeldLocksRecord locks;
};

// Debug-register coverage for an access: the smallest naturally aligned 1/2/4/8-byte
// block that holds its first byte and as much of it as fits. signal-safe.
void breakpoint_range_for(const MemoryAccess& access, uint64_t* bp_address, uint32_t* bp_size);

class WatchBoard {
 public:
  // Not signal-safe; call before threads sample. slots: 1..kMaxWatchSlots.
  // A watch's lifetime is lifetime_ns of wall time and, when lifetime_ticks > 0, also
  // lifetime_ticks sampling periods that threads other than its owner ran while it was
  // on the board (note_other_tick), armed or not (one that cannot arm it, being
  // ordered after it, never races with it):
  // with more threads than cores, or a loaded machine, wall time passes while the
  // threads that could meet the watch wait for a core, so wall time alone retires it
  // before they run. A watch that few threads arm is still retired after
  // kMaxLifetimeStretch lifetimes of wall time.
  void configure(int slots, uint64_t lifetime_ns, uint32_t lifetime_ticks = 0);
  static constexpr uint64_t kMaxLifetimeStretch = 8;
  int slots() const { return slots_; }

  // Offers a sample. It takes an empty or expired slot (the oldest expired one) when there is one; else it
  // replaces a random slot with probability slots/n, n = offers since the board last
  // had room (reservoir sampling, so late samples keep a fair chance).
  // Returns the slot used, or -1 (not chosen, or a slot was being written).
  int publish(const Watch& watch, uint64_t now_ns, Random& random);

  // publish() in two steps, so a sampler can skip the costly part of a sample (its
  // stack) when the board would not take it: choose_slot() makes the same decision
  // (room first: empty, expired, or quietly retired; else reservoir) and
  // write_slot() stores the watch. `quiet` (optional) tells whether the slot chosen
  // held a watch retired early because nobody else touched its bytes.
  int choose_slot(uint64_t now_ns, Random& random, bool* quiet = nullptr);
  bool write_slot(int i, const Watch& watch, uint64_t now_ns) { return try_write(i, &watch, now_ns); }

  // A thread armed slot i for `generation` (arming.cc) / trapped on it: the early
  // retirement bookkeeping. A watch that every other live thread (expected_arms) has
  // armed and that then stayed quiet for quiet_ns() is room for a new sample.
  void note_armed(int i, uint64_t generation, uint64_t now_ns);
  void note_trap(int i, uint64_t generation);
  // Thread `uid` ran one sampling period (counted at its tick): slot i's watch, if
  // another thread owns it, is one period older in other threads' CPU time.
  void note_other_tick(int i, uint32_t uid);
  // Whether slot i's watch has outlived its lifetime (see configure).
  bool expired(int i, uint64_t now_ns) const;
  // Early retirement also waits for quiet_ticks() such periods (when ticks count).
  bool quiet(int i, uint64_t now_ns) const;
  uint64_t quiet_ns() const { return lifetime_ns_ / 4; }
  uint32_t quiet_ticks() const { return lifetime_ticks_ / 4; }

  // Consistent copy of slot i. Returns its generation (0 = empty), or
  // kBusy when a writer held it through every retry. `with_stack` false skips the
  // stack and held-lock copies (arming needs only the header).
  static constexpr uint64_t kBusy = ~0ull;
  uint64_t read(int i, Watch* out, bool with_stack) const;

  // Whether a debug register armed for slot i's watch of `generation` may cover
  // any of the bytes [address, address + size): the watch's own block or its
  // synchronization word's. True too when the slot no longer holds that watch or a
  // writer holds it (what the register covers is then not known here).
  bool may_cover(int i, uint64_t generation, uint64_t address, uint32_t size) const;

  // Just the generation of slot i (0 = empty).
  uint64_t generation(int i) const { return slots_data_[i].generation.load(std::memory_order_acquire); }

  // Increases whenever any slot changes: a thread compares it with the value it
  // last synced at to skip work.
  uint64_t version() const { return version_.load(std::memory_order_acquire); }

  // Empties slot i if it still holds `generation`.
  void retire(int i, uint64_t generation);
  // Empties every slot whose watched bytes overlap [address, address + size)
  // (freed or unmapped memory: an old object and a new one there never race).
  void retire_range(uint64_t address, uint64_t size);
  void clear();

  uint64_t offers() const { return offers_.load(std::memory_order_relaxed); }

 private:
  struct alignas(64) Slot {
    std::atomic<uint64_t> sequence{0};   // odd while being written
    std::atomic<uint64_t> generation{0}; // 0 = empty
    std::atomic<uint32_t> arms{0};       // threads that armed the current watch
    std::atomic<uint32_t> traps{0};      // traps on it
    std::atomic<uint64_t> last_armed_ns{0};
    std::atomic<uint32_t> other_ticks{0};  // other threads' sampling periods since it was published
    Watch watch;
  };
  bool try_write(int i, const Watch* watch, uint64_t now_ns);  // watch == nullptr empties

  Slot slots_data_[kMaxWatchSlots];
  int slots_ = kMaxWatchSlots;
  uint64_t lifetime_ns_ = 20'000'000;
  uint32_t lifetime_ticks_ = 0;
  std::atomic<uint64_t> version_{1};
  std::atomic<uint64_t> next_generation_{1};
  std::atomic<uint64_t> offers_since_room_{0};
  std::atomic<uint64_t> offers_{0};
};

}  // namespace racetrap
