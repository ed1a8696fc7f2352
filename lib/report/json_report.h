// json_report.h — the versioned JSON form of a ReportModel (<log_path>.<pid>.json),
// and reading it back (for `racetrap report` and `racetrap suppress`).
// The schema is documented in docs/json-report.md; kJsonReportVersion is bumped on
// any incompatible change. Addresses and values are "0x..." strings (JSON numbers
// lose precision above 2^53). Contract: parse_json_report is a pure function of the
// text; bad input yields nullopt and one error line, never a crash.
// Round trip: parse_json_report(render_json_report(m)) == m.
#pragma once

#include <optional>
#include <string>

#include "json_text.h"
#include "race_report_model.h"

namespace racetrap {

constexpr int kJsonReportVersion = 1;
constexpr const char* kJsonReportFormat = "racetrap-report";

Json report_to_json(const ReportModel& model);
std::string render_json_report(const ReportModel& model);  // pretty, ends with "\n"

// `name` (the file name) starts the error line: "name: line 3, column 7: ..." or
// "name: races[2].current.stack[0].line: not an integer".
std::optional<ReportModel> parse_json_report(const std::string& text, const std::string& name,
                                             std::string* error);

// Frame and stack conversions, shared with the SARIF writer's property bags.
Json frame_to_json(const SourceFrame& frame);

}  // namespace racetrap
