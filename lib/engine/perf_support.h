// perf_support.h — what this kernel and machine allow, found by trying (for
// start-up and `racetrap check`). Ordinary context.
#pragma once

#include <string>

namespace racetrap {

struct PerfSupport {
  bool breakpoints = false;     // PERF_TYPE_BREAKPOINT with sigtrap can be opened
  bool sigtrap = false;         // the sigtrap attribute is understood
  bool modify_attributes = false;  // PERF_EVENT_IOC_MODIFY_ATTRIBUTES works on a breakpoint
  bool task_clock = false;      // the sampling clock with sigtrap can be opened
  int paranoid = -1;            // /proc/sys/kernel/perf_event_paranoid, -1 when unreadable
  std::string problem;          // one line: why racetrap cannot run here, empty when it can
};
// read_paranoid: also read perf_event_paranoid when nothing failed (`racetrap check`
// shows it); the preload reads it only to explain a failure.
PerfSupport probe_perf_support(bool read_paranoid = true);

}  // namespace racetrap
