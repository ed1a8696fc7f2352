// report_output.h — from a ReportModel to the report files a run leaves behind:
// text at <base>, JSON at <base>.json, SARIF at <base>.sarif (base is
// <log_path>.<pid>), for the formats chosen by RACETRAP_FORMAT. Shared by the
// preload's exit path and `racetrap run` (leftover raw streams) and `racetrap
// report`, so all of them write the same files the same way. Never overwrites a
// file: when <base> exists, <base>.1, <base>.2, ... are tried. Not signal-safe.
#pragma once

#include <string>
#include <vector>

#include "race_report_model.h"

namespace racetrap {

enum class ReportFormat { kText, kJson, kSarif };

// "text,json" -> formats (each once, in the given order). Returns "" on success,
// else one line saying what is wrong.
std::string parse_formats(const std::string& list, std::vector<ReportFormat>* out);

const char* format_name(ReportFormat format);
const char* format_suffix(ReportFormat format);  // "", ".json", ".sarif"

// The report in one format (text may be empty when there is no race).
std::string render_report(const ReportModel& model, ReportFormat format, const std::string& source_root);

struct WrittenReport {
  ReportFormat format;
  std::string path;
};

// Writes each format to <base><suffix> (or <base>.N<suffix>); "stderr" as base
// writes them to stderr instead. Returns what was written; for a file that cannot
// be created, one line "racetrap: cannot write ... (why); here it is:" and the
// report go to stderr.
std::vector<WrittenReport> write_reports(const ReportModel& model, const std::string& base,
                                         const std::vector<ReportFormat>& formats,
                                         const std::string& source_root);

// The line printed on stderr after writing:
// "racetrap: N data races[, N lock-order inversions][, N pthread misuses], report: PATH"
// (+ " (also PATH.json, PATH.sarif)").
std::string written_summary(const std::vector<RaceReport>& reports, const std::vector<WrittenReport>& written);

}  // namespace racetrap
