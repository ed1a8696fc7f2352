// text_report.h — the human report in the sanitizer shape users know:
//   WARNING: racetrap: data race (pid=N)
//     Write of size 8 at 0x... by thread T2 (tid=...):
//       #0 function file:line (module+0xoff)
//     Previous read of size 8 at 0x... by thread T1 (tid=...):
//     ...
//     Thread T2 (tid=...) created by main thread at: ...
//   SUMMARY: racetrap: data race file:line in function
// Races are deduplicated by the unordered pair of access pcs. Not signal-safe.
#pragma once

#include <string>

#include "raw_log_reader.h"
#include "symbolizer.h"

namespace racetrap {

struct TextReport {
  std::string text;       // empty when there is no race
  size_t race_count = 0;  // distinct races (after deduplication)
};

TextReport render_text_report(const RawLog& log, Symbolizer& symbolizer);

}  // namespace racetrap
