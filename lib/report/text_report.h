// text_report.h — the human report in the sanitizer shape users know:
//   ==================
//   WARNING: racetrap: data race (pid=N)
//     Write of size 8 at 0x... by thread T2 (tid=...):
//       #0 function file:line:column (module+0xoff)
//     Previous read of size 8 at 0x... by thread T1 (tid=...):
//       #0 ...
//     Location is global 'name' of size 8 at 0x... (module)
//     Value before the write: 0x1, after: 0x2 (8 bytes)
//     Thread T2 (tid=...) created by main thread at:
//       #0 ...
//     Seen 3 times.                      (only when seen more than once)
//
//   SUMMARY: racetrap: data race file:line:column in function
//   ==================
// then "racetrap: N distinct data races (M reports)", a line for suppressed races
// when there are any, and the run statistics when known. Renders a ReportModel
// (race_report_model.h), so it shows exactly what JSON and SARIF show.
// Not signal-safe.
#pragma once

#include <string>

#include "race_report_model.h"
#include "raw_log_reader.h"
#include "symbolizer.h"

namespace racetrap {

// The report text; empty when the model has no (unsuppressed) race.
std::string render_text(const ReportModel& model);

// "racetrap: stats: samples=N ..." (one line, no newline); empty without stats.
std::string stats_line(const ReportModel& model);

// ThreadSanitizer's "Matched suppressions" listing of the suppressed races:
//   racetrap: matched N suppressions (pid=P):
//     COUNT race:pattern     (count = records suppressed by that rule)
// empty when nothing was suppressed.
std::string suppressions_listing(const ReportModel& model);

struct TextReport {
  std::string text;       // empty when there is no race
  size_t race_count = 0;  // distinct races (after deduplication)
};

// build_report_model + render_text for one raw stream.
TextReport render_text_report(const RawLog& log, Symbolizer& symbolizer);

}  // namespace racetrap
