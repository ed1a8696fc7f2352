// detection_mode.cc — the RACETRAP_MODE decision (see detection_mode.h).
#include "detection_mode.h"

namespace racetrap {

DetectionMode choose_detection_mode(const std::string& flag, BreakpointSelfTest self_test) {
  if (flag == "watchpoints") return DetectionMode::kWatchpoints;
  if (flag == "value-change") return DetectionMode::kValueChange;
  // auto
  if (self_test == BreakpointSelfTest::silent || self_test == BreakpointSelfTest::unavailable)
    return DetectionMode::kValueChange;
  return DetectionMode::kWatchpoints;
}

const char* detection_mode_name(DetectionMode mode) {
  return mode == DetectionMode::kValueChange ? "value-change" : "watchpoints";
}

std::string describe_detection_mode(const std::string& flag, BreakpointSelfTest self_test) {
  std::string out = detection_mode_name(choose_detection_mode(flag, self_test));
  out += " (RACETRAP_MODE=" + flag;
  if (flag == "auto") {
    switch (self_test) {
      case BreakpointSelfTest::fires: out += ": debug-register traps fire"; break;
      case BreakpointSelfTest::silent: out += ": debug-register traps never fired"; break;
      case BreakpointSelfTest::unavailable: out += ": debug registers cannot be used"; break;
      case BreakpointSelfTest::not_run: out += ": breakpoint self-test not run"; break;
    }
  }
  return out + ")";
}

}  // namespace racetrap
