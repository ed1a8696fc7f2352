// breakpoint_self_test.h — once per process, before the first thread is watched,
// the preload proves that a debug-register trap arrives here (lib/breakpoint_trap_probe.h:
// a slot re-pointed with PERF_EVENT_IOC_MODIFY_ATTRIBUTES, a write to the armed
// bytes, the SIGTRAP with the expected sig_data). On a host that accepts
// breakpoints but drops their traps, the hardware watchpoint mode cannot find
// races: the runtime then watches no thread with breakpoints and says so in one line.
#pragma once

#include <cstdint>

#include "detection_mode.h"  // BreakpointSelfTest

namespace racetrap {

// The outcome of this process's self-test; valid after runtime start-up (a forked
// child keeps its parent's, an exec'd program runs its own). not_run when racetrap
// is disabled or perf is unusable.
BreakpointSelfTest breakpoint_self_test_result();

// Ordinary context, from the library constructor, after the SIGTRAP handler is
// installed. Runs the trap probe, stores and returns the outcome; prints the
// outcome at verbosity >= 1 and, when silent, the one-line notice (unless
// `racetrap run` already printed it: RACETRAP_SELF_TEST_NOTICE_SHOWN=1, an
// internal variable it sets for the program it starts). `value_change_instead`:
// RACETRAP_MODE=auto, so a silent host runs the value-change mode (the notice says so).
BreakpointSelfTest run_breakpoint_self_test(int verbosity, bool value_change_instead);

// How long the self-test took, in nanoseconds (0 before it ran).
uint64_t breakpoint_self_test_ns();

// signal-safe. The SIGTRAP handler's entry for a probe trap (sig_data slot kProbeSlot).
void on_self_test_trap(uint64_t sig_data);

}  // namespace racetrap
