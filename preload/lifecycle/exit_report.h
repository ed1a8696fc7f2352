// exit_report.h — at process exit (or before exec), turn the raw stream into the
// report files chosen by RACETRAP_FORMAT, after RACETRAP_SUPPRESSIONS. The
// rendering itself is in libracetrap_report.so (report_library.h), loaded here
// only when there is something to render or print.
#pragma once

#include "runtime.h"

namespace racetrap {
// Ordinary context (library destructor, exec interposer). When races were
// recorded and not all suppressed: writes <log_prefix>.<pid>[.json|.sarif] and one
// summary line on stderr. Prints the matched suppressions
// (RACETRAP_PRINT_SUPPRESSIONS) and the run statistics (RACETRAP_STATS, or
// RACETRAP_VERBOSITY >= 1). Removes the raw stream once it is rendered. When the
// report library cannot be loaded, prints one line naming the raw stream and the
// `racetrap report` command that renders it, and leaves the stream in place.
void finish_report(Runtime& rt);

// The path libracetrap_report.so is loaded from: the directory of the loaded
// libracetrap.so (found with dladdr), which is where both are built and installed.
// Writes at most `size` bytes (NUL-terminated); false when it cannot be found.
bool report_library_path(char* out, unsigned long size);
}  // namespace racetrap
