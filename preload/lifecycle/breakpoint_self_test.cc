// breakpoint_self_test.cc — the start-up proof that debug-register traps arrive.
// Contract: on_self_test_trap is signal-safe (atomics only); the rest runs in the
// library constructor.
#include "breakpoint_self_test.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "breakpoint_trap_probe.h"
#include "runtime.h"

namespace racetrap {
namespace {

BreakpointSelfTest self_test_result = BreakpointSelfTest::not_run;
uint64_t self_test_ns = 0;

bool notice_already_shown() {
  const char* v = std::getenv("RACETRAP_SELF_TEST_NOTICE_SHOWN");
  return v != nullptr && std::strcmp(v, "1") == 0;
}

}  // namespace

BreakpointSelfTest breakpoint_self_test_result() { return self_test_result; }

uint64_t breakpoint_self_test_ns() { return self_test_ns; }

// signal-safe: atomics only.
void on_self_test_trap(uint64_t sig_data) { note_probe_trap(sig_data); }

BreakpointSelfTest run_breakpoint_self_test(int verbosity, bool value_change_instead) {
  const TrapProbeResult probe = fire_probe_trap();
  self_test_ns = probe.elapsed_ns;
  switch (probe.outcome) {
    case TrapProbeOutcome::fired: self_test_result = BreakpointSelfTest::fires; break;
    case TrapProbeOutcome::silent: self_test_result = BreakpointSelfTest::silent; break;
    case TrapProbeOutcome::unavailable: self_test_result = BreakpointSelfTest::unavailable; break;
  }
  if (self_test_result == BreakpointSelfTest::silent && !notice_already_shown())
    write_stderr_line(silent_breakpoints_notice(value_change_instead));
  if (verbosity >= 1) {
    char line[256];
    const double us = static_cast<double>(probe.elapsed_ns) / 1000.0;
    if (self_test_result == BreakpointSelfTest::fires)
      std::snprintf(line, sizeof line, "racetrap: breakpoint self-test: the trap arrived (%.1f us)", us);
    else if (self_test_result == BreakpointSelfTest::silent)
      std::snprintf(line, sizeof line,
                    "racetrap: breakpoint self-test: no trap arrived (event count %llu, %.1f us): hardware "
                    "breakpoints are not used in this run",
                    static_cast<unsigned long long>(probe.count), us);
    else
      std::snprintf(line, sizeof line, "racetrap: breakpoint self-test: could not arm a breakpoint (%s)",
                    std::strerror(probe.error));
    write_stderr_line(line);
  }
  return self_test_result;
}

}  // namespace racetrap
