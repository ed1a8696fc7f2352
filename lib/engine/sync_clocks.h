// sync_clocks.h — the happens-before clock of every synchronization object
// (mutex, condition variable, ...), keyed by its address.
// acquire: thread clock joins the object's clock; release: the object's clock
// joins the thread's. Not signal-safe (spins on an entry lock, may allocate);
// called from the interposers only, from any number of threads at once.
//
// Layout (the lock path's cost): an open-addressing table of one
// cache line per object (key, lock, ObjectClock with 8 epochs in place), found
// without a lock. A key, once written into an empty entry (CAS), stays there until
// reset_after_fork; forget() only empties the clock, so a probe never passes the
// entry of the key it looks for, and an object never has two entries. An object
// whose probe window is full of other keys lives in a striped map instead (the
// structure before the table), for good: the window only ever fills up.
// The common case of both calls reads the object's line and writes nothing
// (ObjectClock::same_as), so a lock handed between cores moves no cache line of
// racetrap's; the mutex fast path skips even that read while the clock
// generation stands (synced_objects.h).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <unordered_map>

#include "object_clock.h"
#include "spin_lock.h"
#include "vector_clock.h"

namespace racetrap {

class SyncClockTable {
 public:
  // One object's line of the table (see Layout above).
  struct alignas(64) Entry {
    std::atomic<uintptr_t> key;  // 0: free
    SpinLock lock;
    ObjectClock clock;
  };

  SyncClockTable();
  ~SyncClockTable();
  SyncClockTable(const SyncClockTable&) = delete;
  SyncClockTable& operator=(const SyncClockTable&) = delete;

  // Inline fast path: the object sits in its home entry and holds the thread's
  // own content (same id): nothing to join, no lock.
  void acquire(uintptr_t object, VectorClock& thread_clock) {
    if (entries_ != nullptr && object != 0) {
      Entry& home = entries_[home_of(object)];
      if (home.key.load(std::memory_order_acquire) == object) {
        if (!home.clock.same_as(thread_clock)) acquire_locked(home, thread_clock);
        return;
      }
    }
    acquire_slow(object, thread_clock);
  }
  // Inline fast path: the same, and nothing to add.
  void release(uintptr_t object, const VectorClock& thread_clock) {
    if (entries_ != nullptr && object != 0) {
      Entry& home = entries_[home_of(object)];
      if (home.key.load(std::memory_order_acquire) == object) {
        if (!home.clock.same_as(thread_clock)) release_locked(home, thread_clock);
        return;
      }
    }
    release_slow(object, thread_clock);
  }
  // Reads the object's home entry: a caller about to acquire the object takes the
  // page fault of a first touch here, before the lock, instead of inside its hold.
  void touch(uintptr_t object) const {
    if (entries_ != nullptr) (void)entries_[home_of(object)].key.load(std::memory_order_relaxed);
  }

  // An acquisition split around a blocking lock call, so that the join (which
  // may move the object's cache line between cores) is not done while the thread
  // holds its previous lock: acquire_early joins the object's clock before the
  // lock is taken and returns the content id it joined (0: nothing released yet;
  // kNoVersion: an object kept in the overflow map, whose content has no id).
  // Once the lock is taken, unchanged_since(object, version) says whether any
  // release came in between; if one did, the caller acquires again (acquire).
  // Releases into a lock happen before its real unlock, so after the real lock
  // call unchanged_since sees every one that the thread must join.
  static constexpr uint64_t kNoVersion = ~0ull;
  uint64_t acquire_early(uintptr_t object, VectorClock& thread_clock);
  bool unchanged_since(uintptr_t object, uint64_t version) const {
    if (version == kNoVersion) return false;
    bool absent = false;
    const Entry* e = lookup(object, &absent);
    return e != nullptr ? e->clock.version() == version : absent && version == 0;  // absent: still never released
  }
  // A lock's fast path in two halves, one hash and one key comparison for both:
  // before the real lock, the object's home entry when the object lives there
  // (nullptr otherwise; either way the read took a first touch's page fault, as
  // touch() does); after it, acquire_at() that entry. A key never leaves its entry
  // (see above), so the entry found before the lock is still the object's after it.
  Entry* home_entry(uintptr_t object) const {
    if (entries_ == nullptr || object == 0) return nullptr;
    Entry& home = entries_[home_of(object)];
    return home.key.load(std::memory_order_acquire) == object ? &home : nullptr;
  }
  // acquire(object, thread_clock) for `home` == home_entry(object), not nullptr.
  void acquire_at(Entry* home, VectorClock& thread_clock) {
    if (!home->clock.same_as(thread_clock)) acquire_locked(*home, thread_clock);
  }
  // acquire_early for `home`, the object's entry (home_entry's, or one found
  // further along its probe window), not nullptr: the content id is read before the join, so a release racing with the join makes the check after
  // the lock (home->clock.version() != the id) join again rather than miss it.
  uint64_t acquire_early_at(Entry* home, VectorClock& thread_clock) {
    const uint64_t version = home->clock.version();
    // 0: empty, or a first release still in progress (its id comes last): joined
    // after the lock then, as any change of the id.
    if (version != 0 && version != thread_clock.id()) acquire_locked(*home, thread_clock);
    return version;
  }
  // Whether `object` (the address a synchronization call or annotation named) has
  // an entry in the table; the overflow map is not looked at, and a forgotten
  // object keeps its entry. signal-safe: atomic loads only, nothing inserted, no
  // lock (the value-change mode asks it about a word that changed during a stall).
  bool has_entry_for(uintptr_t object) const {
    bool absent = false;
    return lookup(object, &absent) != nullptr;
  }
  void forget(uintptr_t object);
  // In a forked child: forgets every clock (they name threads that do not exist there).
  void reset_after_fork();

  // For tests: objects kept in the overflow map rather than the table.
  size_t overflow_objects();
  static constexpr uint32_t kEntries = 1u << 15;  // 2 MiB of address space, touched as used
  static constexpr uint32_t kWindow = 32;         // entries probed per object
  // The entry where the probe for `object` starts (public for tests). The table
  // is 256 groups of 128 entries (two pages each): an object's page within its MiB,
  // XOR the MiB's number, picks the group, and its 32-byte unit within the page,
  // scattered by an odd multiplier (a permutation of the 128), the entry. A
  // program's locks sit in a few pages of its heap and data, so the table's
  // resident memory follows those pages instead of one table page per object (a
  // multiplicative hash took about 250 KiB for pigz's few dozen objects); the XOR
  // keeps objects at the same offset in different MiBs apart (per-thread arenas
  // and stacks are 64 and 8 MiB apart); the scatter keeps neighbouring objects
  // (two mutexes side by side) out of each other's probe runs, so each stays in
  // its home entry and two threads locking them touch no common line.
  static uint32_t home_of(uintptr_t object) {
    const auto group = static_cast<uint32_t>((object >> 12) ^ (object >> 20)) & 255u;
    const auto unit = (static_cast<uint32_t>(object >> 5) & 127u) * 37u & 127u;
    return group << 7 | unit;
  }

 private:
  // The object's entry in the table, found without inserting or locking (atomic
  // loads only: signal-safe); nullptr when it has none, with *absent set when the
  // probe met a free entry (never released) rather than a window full of other
  // keys (an object of the overflow map, or no table).
  const Entry* lookup(uintptr_t object, bool* absent) const {
    *absent = false;
    if (entries_ == nullptr || object == 0) return nullptr;
    uint32_t i = home_of(object);
    for (uint32_t probe = 0; probe < kWindow; ++probe, i = (i + 1) & (kEntries - 1)) {
      const uintptr_t key = entries_[i].key.load(std::memory_order_acquire);
      if (key == object) return &entries_[i];
      if (key == 0) {
        *absent = true;
        return nullptr;
      }
    }
    return nullptr;
  }

  void acquire_slow(uintptr_t object, VectorClock& thread_clock);
  // The join under the entry's lock, out of line: the inline callers (the lock
  // interposers' fast paths) keep only the id comparison.
  __attribute__((noinline)) void acquire_locked(Entry& e, VectorClock& thread_clock);
  __attribute__((noinline)) void release_locked(Entry& e, const VectorClock& thread_clock);
  void release_slow(uintptr_t object, const VectorClock& thread_clock);
  // Some entry's clock moved to the heap: the destructor must look for them.
  void note_on_heap() {
    if (!any_on_heap_.load(std::memory_order_relaxed)) any_on_heap_.store(true, std::memory_order_relaxed);
  }

  enum class Find { kFound, kAbsent, kOverflow };
  // The entry of `object` (inserted when `insert`), or why there is none.
  Find find(uintptr_t object, bool insert, Entry** out);
  void map_entries();

  static constexpr size_t kStripes = 64;
  struct alignas(64) Stripe {
    SpinLock lock;
    std::unordered_map<uintptr_t, ObjectClock> clocks;
  };
  Stripe& stripe_of(uintptr_t object) { return stripes_[(object >> 4) * 0x9e3779b97f4a7c15ull >> 58]; }

  Entry* entries_ = nullptr;  // kEntries, mmap'd (nullptr: everything overflows)
  std::atomic<bool> any_on_heap_{false};
  Stripe stripes_[kStripes];
};

}  // namespace racetrap
