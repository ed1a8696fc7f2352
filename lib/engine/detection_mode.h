// detection_mode.h — which detector runs in this process: hardware watchpoints
// (debug registers trap the other thread's access) or value-change sampling (the
// sampled thread stalls and re-reads the bytes it is about to touch). Chosen once
// at start-up from RACETRAP_MODE and the start-up breakpoint self-test.
// Contract: pure functions, no state; not needed in signal handlers (the choice is
// stored in the Runtime).
#pragma once

#include <cstdint>
#include <string>

namespace racetrap {

// What the start-up breakpoint self-test saw (preload/lifecycle/breakpoint_self_test.h,
// `racetrap check`): a trap arrived, none arrived, no breakpoint could be armed.
enum class BreakpointSelfTest : uint8_t { not_run, fires, silent, unavailable };

enum class DetectionMode : uint8_t { kWatchpoints, kValueChange };

// RACETRAP_MODE ("auto", "watchpoints", "value-change"; flags.inc refuses anything
// else) and what the self-test saw -> the mode to run. `auto` takes watchpoints
// unless the self-test proved that breakpoints do not fire (silent) or cannot be
// opened (unavailable); a test that did not run trusts them, as before the test
// existed.
DetectionMode choose_detection_mode(const std::string& flag, BreakpointSelfTest self_test);

// The CPU time between two samples of one thread, in microseconds:
// RACETRAP_SAMPLE_US (`flag`) when set (at least 20), else the mode's default. A
// value-change sample costs more CPU than a watchpoint one (the sampled thread also
// stalls, up to RACETRAP_STALL_US), so that mode samples half as often: at 2000 us
// it cost the compressors 4-10% of CPU, at 4000 us 2-5%, and its detection figures
// still hold (bench/results/value-change-default-period-2026-11-29.md). 8000 us was
// measured too and not taken: pigz's CPU ratio moved from 1.026 to 1.018 (zstd's
// and xz's moves were inside their run-to-run spread), while races that a 1 s loop
// meets rarely were found less often, racy_rare 20/20 -> 14/20 and racy_cold 6/20
// -> 0/20 (bench/results/detection-value-change-periods-2026-11-29.md).
constexpr int64_t kWatchpointSampleUs = 2000, kValueChangeSampleUs = 4000, kMinSampleUs = 20;
inline int64_t sample_period_us(int64_t flag, DetectionMode mode) {
  if (flag == 0) return mode == DetectionMode::kValueChange ? kValueChangeSampleUs : kWatchpointSampleUs;
  return flag < kMinSampleUs ? kMinSampleUs : flag;
}

// "watchpoints" / "value-change": the words RACETRAP_MODE uses.
const char* detection_mode_name(DetectionMode mode);

// Why `mode` was chosen, for `racetrap check` and the verbosity-1 start-up line,
// e.g. "value-change (RACETRAP_MODE=auto: debug-register traps never fired)".
std::string describe_detection_mode(const std::string& flag, BreakpointSelfTest self_test);

}  // namespace racetrap
