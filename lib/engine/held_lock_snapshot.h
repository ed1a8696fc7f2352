// held_lock_snapshot.h — a fixed-size copy of the locks a thread holds (HeldLocks)
// for a race record: taken by the thread's own signal handler, at a sample (into
// the Watch) and at a trap.
// signal-safe: plain loads and stores, no allocation.
//
// The handler may interrupt the thread in the middle of a HeldLocks update (push,
// pop, remove_at shifting entries): the count is read once and clamped, and an
// entry being written may be stale or half-written. A snapshot is a report aid,
// not a verdict input, so that is tolerated: entries with address 0 are left out.
#pragma once

#include <atomic>
#include <cstring>

#include "flags.h"
#include "held_locks.h"
#include "race_record.h"

namespace racetrap {

// Whether the interposers keep HeldLocks up to date (preload/interposers/lock_tracking.h). signal-safe.
inline bool held_locks_tracked(const Flags& flags) { return flags.detect_deadlocks || flags.report_misuse; }

// `known`: lock tracking is on (the interposers fill HeldLocks); when false the
// snapshot says "unknown" instead of "no locks held". signal-safe.
inline void snapshot_held_locks(const HeldLocks& held, bool known, HeldLocksRecord* out) {
  std::memset(out, 0, sizeof *out);
  if (!known) return;
  out->flags = kLocksKnown;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  int count = held.count();
  const int untracked = held.untracked();
  if (count < 0) count = 0;
  if (count > kMaxHeldLocks) count = kMaxHeldLocks;
  uint32_t kept = 0;
  for (int i = 0; i < count && kept < static_cast<uint32_t>(kMaxRecordedLocks); ++i) {
    const HeldLock& h = held[i];
    if (h.address == 0) continue;
    HeldLockRecord& r = out->locks[kept++];
    r.address = h.address;
    r.pc = h.pc;
    r.mode = static_cast<uint8_t>(h.mode) <= 2 ? static_cast<uint8_t>(h.mode) : 0;
  }
  // Entries beyond the copied ones count too; so do locks past HeldLocks' capacity.
  uint32_t total = static_cast<uint32_t>(count) + static_cast<uint32_t>(untracked > 0 ? untracked : 0);
  out->total = total < kept ? kept : total;
}

}  // namespace racetrap
