// breakpoint_trap_probe.h — proves with one real trap that this machine's debug
// registers fire. Some hypervisors (PVM guests, SEV-ES/SNP without debug-register
// virtualization, WSL1, some Xen PV versions, KVM while the VM manager debugs the
// guest) accept hardware breakpoints through perf_event_open and then never deliver
// their traps; only an access to armed bytes tells. The probe goes through the
// production path: a BreakpointSlot opened disarmed, re-pointed with arm()
// (PERF_EVENT_IOC_MODIFY_ATTRIBUTES where the kernel has it), one write to the armed
// bytes by the calling thread, and the SIGTRAP carrying the expected sig_data.
// Used by the preload's start-up self-test and by `racetrap check`.
#pragma once

#include <cstdint>

#include "perf_events.h"

namespace racetrap {

enum class TrapProbeOutcome : uint8_t { fired, silent, unavailable };

struct TrapProbeResult {
  TrapProbeOutcome outcome = TrapProbeOutcome::unavailable;
  uint64_t count = 0;       // the breakpoint event's count after the write (silent hosts: 0)
  int error = 0;            // errno of the failed open or arm (unavailable)
  uint64_t elapsed_ns = 0;  // open to close, trap included
};

// The sig_data slot field of the probe's breakpoint: outside the watch slots, so a
// handler tells a probe trap from a watchpoint trap.
constexpr unsigned kProbeSlot = 15;

// signal-safe. True when `sig_data` (of a perf SIGTRAP) names the probe's breakpoint.
inline bool is_probe_trap(uint64_t data) {
  return sig_data::is_ours(data) && sig_data::kind(data) == sig_data::kBreakpoint &&
         sig_data::slot(data) == kProbeSlot;
}

// signal-safe (atomics only). The SIGTRAP handler passes every probe trap here; a
// trap with the generation the running probe armed counts as fired.
void note_probe_trap(uint64_t data);

// Ordinary context, in the calling thread, which must not be watched yet (or be
// `racetrap check`). A SIGTRAP handler that passes probe traps to note_probe_trap
// must be installed. SIGTRAP is unblocked in the calling thread for the duration.
// Costs one breakpoint open, one re-point, one trap and one close (tens of us).
//
// Fault injection for tests: with RACETRAP_TEST_SILENT_BREAKPOINTS=1 in the
// environment the slot is armed on a word beside the one written, so no trap
// comes, as on a host that drops them (not a tunable: it exists to test the
// blind-host branch on a host whose breakpoints fire).
TrapProbeResult fire_probe_trap();

// The one line (no newline) that says breakpoints are accepted but never fire,
// the likely causes, and what racetrap does instead in this run: value-change
// sampling (RACETRAP_MODE=auto) or no data-race detection (watchpoints forced).
const char* silent_breakpoints_notice(bool value_change_instead);

}  // namespace racetrap
