// report_inputs.h — reads the report files `racetrap report`, `racetrap suppress`
// and `racetrap run` take as input into report models: raw streams (.raw, also the
// torn one a killed program left: symbolized offline with the maps snapshot in the
// stream) and JSON reports. The kind is told by the content, not the name.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "race_report_model.h"

namespace racetrap {

enum class InputKind { kRaw, kJson, kText, kUnknown };

// What the file looks like from its first bytes.
InputKind sniff_input(const std::string& path);

// A raw or JSON report as a model. nullopt with *error (one line naming the file)
// when it cannot be read; *warning gets one line when the file was read but is
// damaged (torn last record, skipped chunks), else it is cleared. A raw stream is
// symbolized with separate debug files also looked up in `debug_dirs` (see
// Symbolizer).
std::optional<ReportModel> load_report(const std::string& path, std::string* error, std::string* warning,
                                       const std::vector<std::string>& debug_dirs = {});

}  // namespace racetrap
