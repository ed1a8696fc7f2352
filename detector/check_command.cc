// check_command.cc — `racetrap check`: can racetrap work on this kernel and machine
// (perf accepts the events, and a real debug-register trap arrives), and what does
// re-pointing a debug register cost (MODIFY_ATTRIBUTES vs. reopen)?
#include <fmt/core.h>
#include <sys/utsname.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "commands.h"
#include "detection_mode.h"
#include "flags.h"
#include "perf_events.h"
#include "perf_support.h"
#include "preload_locator.h"
#include "trap_test.h"

namespace racetrap {
namespace {

// Two words the benchmark points the breakpoint at; nothing ever touches them, so
// the armed breakpoint never fires.
alignas(64) volatile uint64_t g_target_a;
alignas(64) volatile uint64_t g_target_b;

const char* yes_no(bool b) { return b ? "yes" : "no"; }

// Median over `rounds` of the mean cost of one arm() call, alternating between two
// addresses, in microseconds; nullopt (with *error) if the slot cannot be armed.
std::optional<double> measure_rearm(bool use_modify, int calls, int rounds, std::string* error) {
  const bool saved = BreakpointSlot::use_modify();
  BreakpointSlot::set_use_modify(use_modify);
  BreakpointSlot slot;
  if (!slot.open(0)) {
    *error = fmt::format("cannot open a breakpoint: {}", std::strerror(errno));
    BreakpointSlot::set_use_modify(saved);
    return std::nullopt;
  }
  const uint64_t a = reinterpret_cast<uint64_t>(&g_target_a);
  const uint64_t b = reinterpret_cast<uint64_t>(&g_target_b);
  std::array<double, 16> per_call{};
  rounds = std::min<int>(rounds, per_call.size());
  std::optional<double> result;
  for (int r = 0; r < rounds; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < calls; ++i) {
      if (!slot.arm((i & 1) ? b : a, 8, BreakpointType::kReadWrite, static_cast<uint64_t>(i))) {
        *error = fmt::format("arm() failed: {}", std::strerror(errno));
        slot.disarm();
        slot.close();
        BreakpointSlot::set_use_modify(saved);
        return std::nullopt;
      }
    }
    auto t1 = std::chrono::steady_clock::now();
    per_call[r] = std::chrono::duration<double, std::micro>(t1 - t0).count() / calls;
  }
  slot.disarm();
  slot.close();
  BreakpointSlot::set_use_modify(saved);
  std::sort(per_call.begin(), per_call.begin() + rounds);
  result = per_call[rounds / 2];
  return result;
}

}  // namespace

int check_command(int argc, char** argv) {
  if (argc > 0) {
    fmt::print(stderr, "racetrap: check takes no arguments (got '{}')\n", argv[0]);
    return 2;
  }
  struct utsname u {};
  uname(&u);
  fmt::print("kernel: {} {} {} {}\n", u.sysname, u.release, u.version, u.machine);
  const bool x86_64 = std::strcmp(u.machine, "x86_64") == 0;

  PerfSupport support = probe_perf_support();
  if (support.paranoid == -1)
    fmt::print("perf_event_paranoid: unreadable\n");
  else
    fmt::print("perf_event_paranoid: {}\n", support.paranoid);
  fmt::print("breakpoints accepted: {}\n", yes_no(support.breakpoints));
  fmt::print("sigtrap: {}\n", yes_no(support.sigtrap));
  fmt::print("modify_attributes: {}\n", yes_no(support.modify_attributes));
  fmt::print("task_clock: {}\n", yes_no(support.task_clock));

  std::string error;
  if (std::optional<std::string> preload = locate_preload(&error))
    fmt::print("preload: {}\n", *preload);
  else
    fmt::print("preload: not found ({})\n", error);

  std::string problem = support.problem;
  BreakpointSelfTest self_test = BreakpointSelfTest::not_run;
  if (problem.empty() && support.breakpoints && support.sigtrap) {
    const TrapProbeResult trap = run_trap_test(/*from_another_thread=*/true);
    self_test = trap.outcome == TrapProbeOutcome::fired    ? BreakpointSelfTest::fires
                : trap.outcome == TrapProbeOutcome::silent ? BreakpointSelfTest::silent
                                                           : BreakpointSelfTest::unavailable;
    if (trap.outcome == TrapProbeOutcome::fired) {
      fmt::print("breakpoints fire: yes (a thread's write to the bytes its re-pointed breakpoint watched trapped)\n");
    } else if (trap.outcome == TrapProbeOutcome::silent) {
      fmt::print("breakpoints fire: no (the breakpoint was accepted and armed, the watched word was written, the "
                 "event count stayed {} and no SIGTRAP arrived)\n",
                 trap.count);
      problem = "hardware breakpoints are accepted but never fire on this machine: its hypervisor drops "
                "debug-register traps (a PVM guest, AMD SEV-ES/SNP without debug-register virtualization, WSL1, "
                "some Xen PV versions, KVM while the VM manager debugs the guest; `dmesg | grep -i pvm` tells "
                "one); lock-order and mutex-misuse reports still work; the hardware watchpoint mode needs a host whose debug "
                "registers fire (bare metal, a KVM guest, or a QEMU TCG guest)";
    } else {
      fmt::print("breakpoints fire: unknown (the test breakpoint could not be armed: {})\n",
                 std::strerror(trap.error));
      problem = fmt::format("a breakpoint could not be armed for the trap test ({})", std::strerror(trap.error));
    }
  } else {
    fmt::print("breakpoints fire: not tested ({})\n", support.problem.empty() ? "no breakpoints" : "perf unusable");
  }

  if (support.breakpoints) {
    std::string modify_error, reopen_error;
    std::optional<double> modify;
    if (support.modify_attributes) modify = measure_rearm(true, 20000, 5, &modify_error);
    std::optional<double> reopen = measure_rearm(false, 2000, 5, &reopen_error);
    std::string modify_text = modify ? fmt::format("{:.2f} us", *modify)
                              : support.modify_attributes ? "failed (" + modify_error + ")"
                                                          : std::string("unsupported");
    std::string reopen_text =
        reopen ? fmt::format("{:.2f} us", *reopen) : "failed (" + reopen_error + ")";
    std::string ratio_text =
        modify && reopen && *modify > 0 ? fmt::format("{:.1f}x", *reopen / *modify) : "n/a";
    fmt::print("re-arm cost: modify: {}, reopen: {}, ratio {} (costs only: they say nothing about whether "
               "breakpoints fire)\n",
               modify_text, reopen_text, ratio_text);
  } else {
    fmt::print("re-arm cost: n/a (no breakpoints)\n");
  }
  // Which detector a program started from here would run (RACETRAP_MODE from the
  // environment; a bad value falls back to the default, as in the preload).
  const Flags flags = parse_flags([](const char* name) { return std::getenv(name); },
                                  [](const std::string& line) { fmt::print(stderr, "{}\n", line); });
  const bool runs_value_change = choose_detection_mode(flags.mode, self_test) == DetectionMode::kValueChange;
  fmt::print("mode: {}\n", describe_detection_mode(flags.mode, self_test));

  if (problem.empty() && !x86_64)
    problem = fmt::format("racetrap supports x86-64 only (this machine is {})", u.machine);
  if (!problem.empty()) {
    fmt::print("problem: {}\n", problem);
    if (runs_value_change && support.problem.empty() && x86_64)
      fmt::print("racetrap's hardware watchpoint mode cannot find data races here; the value-change mode runs "
                 "instead and finds fewer (README, \"Value-change mode\").\n");
    else
      fmt::print("racetrap cannot find data races here.\n");
    return 1;
  }
  fmt::print("racetrap can find data races here.\n");
  return 0;
}

}  // namespace racetrap
