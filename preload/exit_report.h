// exit_report.h — at process exit (or before exec), turn the raw stream into the
// report files chosen by RACETRAP_FORMAT, after RACETRAP_SUPPRESSIONS.
#pragma once

#include "runtime.h"

namespace racetrap {
// Ordinary context (library destructor, exec interposer). When races were
// recorded and not all suppressed: writes <log_prefix>.<pid>[.json|.sarif] and one
// summary line on stderr. Prints the matched suppressions
// (RACETRAP_PRINT_SUPPRESSIONS) and the run statistics (RACETRAP_STATS, or
// RACETRAP_VERBOSITY >= 1). Removes the raw stream once it is rendered.
void finish_report(Runtime& rt);
}  // namespace racetrap
