// breakpoint_hits.h — which of a thread's debug registers one access fired.
// signal-safe (plain arithmetic).
//
// One instruction that touches the bytes of several of a thread's debug registers
// raises one debug exception, and the kernel counts a hit on each of those
// breakpoint events and sends a SIGTRAP for each; but SIGTRAP is not a real-time
// signal, and one sent to a thread while another is pending is dropped
// (kernel/signal.c, legacy_queue): the thread receives a single trap, tagged with
// one register's data (the last queued task work runs first: the highest-numbered
// register's), and the others are lost. Two registers on one word are common with
// learned synchronization words: a flag store is at once the owner's release (its
// own register of its watch's slot, write-only) and its acquire of another
// thread's watch on the same flag (another slot, reads and writes). So the handler
// of the trap that arrives works out which other armed registers the same access
// fired, and handles them too (preload/signal/merged_traps.h).
#pragma once

#include <cstdint>

#include "breakpoint_type.h"
#include "memory_access.h"

namespace racetrap {

// Where one debug register points and what it fires on.
struct ArmedBreakpoint {
  uint64_t address = 0;
  uint32_t length = 0;  // 1, 2, 4 or 8, naturally aligned
  BreakpointType type = BreakpointType::kReadWrite;
};

// Whether a register armed on `r` fires on `access`: the access touches one of its
// bytes, and writes or the register fires on reads too.
bool breakpoint_fires_on(const ArmedBreakpoint& r, const MemoryAccess& access);

// When the access behind a trap of `delivered` is not known (its instruction would
// not decode, or the trap was delivered late): whether that access may have fired
// `other` too. An access touches at most 64 bytes, one of them in `delivered`: so
// `other` may have fired when its bytes lie within 63 bytes of `delivered`'s.
bool breakpoint_may_share_hit(const ArmedBreakpoint& delivered, const ArmedBreakpoint& other);

}  // namespace racetrap
