// trap_test.cc — fire the breakpoint trap probe from the racetrap command.
#include "trap_test.h"

#include <signal.h>

#include <thread>

#include "perf_events.h"

namespace racetrap {
namespace {

// signal-safe. The probe's trap goes to the probe; no other SIGTRAP is expected here.
void on_sigtrap(int, siginfo_t* info, void*) {
  const PerfSignal perf = read_perf_signal(info);
  if (perf.is_perf && is_probe_trap(perf.data)) note_probe_trap(perf.data);
}

}  // namespace

TrapProbeResult run_trap_test(bool from_another_thread) {
  struct sigaction act {}, old {};
  act.sa_sigaction = on_sigtrap;
  act.sa_flags = SA_SIGINFO;
  sigemptyset(&act.sa_mask);
  sigaction(SIGTRAP, &act, &old);
  TrapProbeResult result;
  if (from_another_thread)
    std::thread([&result] { result = fire_probe_trap(); }).join();
  else
    result = fire_probe_trap();
  sigaction(SIGTRAP, &old, nullptr);
  return result;
}

}  // namespace racetrap
