// suppress_command.cc — `racetrap suppress REPORT...`: suppression lines (TSan
// syntax) for every race in the given reports, to paste into a suppressions file.
// Raw streams and JSON reports name each report by its top function; a text report
// is read from its SUMMARY lines ("... in FUNCTION"), for every kind of report.
#include <fmt/core.h>

#include <fstream>
#include <set>
#include <string>

#include "commands.h"
#include "report_inputs.h"
#include "suppressions.h"

namespace racetrap {
namespace {

// The TSan rule type for a report kind, from the words after "SUMMARY: racetrap: ":
// data races -> race:, lock-order inversions -> deadlock:, pthread misuse -> mutex:.
const char* rule_type_of_summary(const std::string& what) {
  if (what.rfind("data race ", 0) == 0) return "race";
  if (what.rfind("lock-order-inversion", 0) == 0) return "deadlock";
  return "mutex";
}

// "SUMMARY: racetrap: KIND LOCATION in FUNCTION" -> "race:FUNCTION",
// "deadlock:FUNCTION" or "mutex:FUNCTION" lines, as for raw and JSON reports.
std::string suggest_from_text(const std::string& path) {
  std::ifstream in(path);
  std::string line, out;
  std::set<std::string> seen;
  const std::string summary = "SUMMARY: racetrap: ";
  while (std::getline(in, line)) {
    if (line.rfind(summary, 0) != 0) continue;
    size_t in_pos = line.rfind(" in ");
    if (in_pos == std::string::npos || in_pos < summary.size()) continue;
    const std::string what = line.substr(summary.size());
    std::string rule = std::string(rule_type_of_summary(what)) + ":" + function_base_name(line.substr(in_pos + 4));
    if (!seen.insert(rule).second) continue;
    out += fmt::format("# {}\n{}\n", what, rule);
  }
  return out;
}

}  // namespace

int suppress_command(int argc, char** argv) {
  if (argc == 0) {
    fmt::print(stderr, "racetrap: suppress: no report given (usage: racetrap suppress REPORT...)\n");
    return 2;
  }
  int status = 0;
  std::set<std::string> printed;
  for (int i = 0; i < argc; ++i) {
    std::string path = argv[i];
    if (path == "-h" || path == "--help") {
      print_usage(false);
      return 0;
    }
    std::string text;
    if (sniff_input(path) == InputKind::kText) {
      text = suggest_from_text(path);
    } else {
      std::string error, warning;
      std::optional<ReportModel> model = load_report(path, &error, &warning);
      if (!warning.empty()) fmt::print(stderr, "racetrap: warning: {}\n", warning);
      if (!model) {
        fmt::print(stderr, "racetrap: {}\n", error);
        status = 1;
        continue;
      }
      text = suggest_suppressions(*model);
    }
    // Two lines per race (comment, rule); a rule already printed is left out.
    size_t pos = 0;
    while (pos < text.size()) {
      size_t comment_end = text.find('\n', pos);
      size_t rule_end = text.find('\n', comment_end + 1);
      if (comment_end == std::string::npos || rule_end == std::string::npos) break;
      std::string rule = text.substr(comment_end + 1, rule_end - comment_end - 1);
      if (printed.insert(rule).second) fmt::print("{}", text.substr(pos, rule_end + 1 - pos));
      pos = rule_end + 1;
    }
  }
  return status;
}

}  // namespace racetrap
