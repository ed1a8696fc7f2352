// run_findings.h — how a watched process tells `racetrap run` that it reported
// something, wherever the report went (a file, stderr, the stderr fallback of an
// unwritable directory). `racetrap run` creates an empty file and names it in
// RACETRAP_RUN_FINDINGS (an internal handshake, not a tunable); a process that
// reports appends one line to it, and `racetrap run` exits with --exitcode when
// the file is not empty. Without the variable (plain LD_PRELOAD) nothing happens.
// Not signal-safe (exit time only).
#pragma once

#include <cstdint>

namespace racetrap {

inline constexpr const char* kRunFindingsVariable = "RACETRAP_RUN_FINDINGS";

// Appends "pid N reports M\n" to the file named by RACETRAP_RUN_FINDINGS, if set.
// Never creates the file: only the one `racetrap run` made is written to.
void note_findings_for_racetrap_run(uint32_t pid, uint64_t reports);

}  // namespace racetrap
