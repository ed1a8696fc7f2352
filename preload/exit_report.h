// exit_report.h — at process exit, turn the raw stream into the text report.
#pragma once

#include "runtime.h"

namespace racetrap {
// Ordinary context (library destructor). Writes <log_prefix>.<pid> and the
// one-line summary on stderr when races were recorded; nothing otherwise.
void finish_report(Runtime& rt);
}  // namespace racetrap
