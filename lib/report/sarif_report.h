// sarif_report.h — a ReportModel as SARIF 2.1.0 (<log_path>.<pid>.sarif), for code
// scanning UIs and CI. One result per race: rule id per bug kind
// ("racetrap/data-race"), primary location = the current access's first frame
// with source, relatedLocations = the previous access, both stacks as `stacks`,
// thread creation stacks in the result's property bag, `partialFingerprints`
// from race_fingerprint (symbolic: function, file basename, line — not addresses,
// so two runs agree). Paths under `source_root` become relative to the uriBaseId
// "SRCROOT"; others stay absolute file:// URIs. Validated against the official
// schema by tests/report/validate_sarif.py. Not signal-safe.
#pragma once

#include <string>

#include "json_text.h"
#include "race_report_model.h"

namespace racetrap {

struct SarifOptions {
  std::string source_root;  // absolute directory, "" for none
};

Json report_to_sarif(const ReportModel& model, const SarifOptions& options);
std::string render_sarif_report(const ReportModel& model, const SarifOptions& options);

// "file:///abs/path" or, under `source_root`, the relative path (percent-encoded).
// *relative tells which.
std::string sarif_uri(const std::string& path, const std::string& source_root, bool* relative);

}  // namespace racetrap
