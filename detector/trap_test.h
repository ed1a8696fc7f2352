// trap_test.h — the racetrap command's use of the breakpoint trap probe
// (lib/breakpoint_trap_probe.h): `racetrap check` and `racetrap run` ask the same
// question the preload's self-test asks, does a debug-register trap arrive here?
#pragma once

#include "breakpoint_trap_probe.h"

namespace racetrap {

// Installs a SIGTRAP handler for the probe's trap, fires it, restores the old
// handler. With `from_another_thread` the armed slot and the write belong to a
// thread started for it, as in a watched program (a thread arms its own debug
// register on an address another thread published).
TrapProbeResult run_trap_test(bool from_another_thread);

}  // namespace racetrap
