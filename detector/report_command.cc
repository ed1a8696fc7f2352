// report_command.cc — `racetrap report [options] FILE...`: render raw streams and
// JSON reports of one or many runs (and processes) as one report, races merged
// across runs by fingerprint and ranked by how many runs saw them.
#include <fmt/core.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "commands.h"
#include "report_inputs.h"
#include "report_output.h"
#include "suppressions.h"
#include "text_report.h"

namespace racetrap {
namespace {

struct ReportArgs {
  std::string format = "text";
  std::string suppressions;
  std::string source_root;
  std::string output;  // "" = stdout
  std::vector<std::string> debug_dirs;  // --debug-dir, repeatable: separate debug files
  std::vector<std::string> files;
  bool help = false;
};

// "--name=VALUE" or "--name VALUE"; returns false on a missing value.
bool take_value(const std::string& arg, const char* name, int argc, char** argv, int* i, std::string* out,
                std::string* error) {
  std::string prefix = std::string(name) + "=";
  if (arg.rfind(prefix, 0) == 0) {
    *out = arg.substr(prefix.size());
    return true;
  }
  if (arg != name) return false;
  if (*i + 1 >= argc) {
    *error = fmt::format("racetrap: report: {} needs a value", name);
    return true;
  }
  *out = argv[++*i];
  return true;
}

std::string parse_args(int argc, char** argv, ReportArgs* out) {
  std::string error;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      out->help = true;
      return {};
    }
    if (arg == "--") {
      for (++i; i < argc; ++i) out->files.push_back(argv[i]);
      break;
    }
    if (take_value(arg, "--format", argc, argv, &i, &out->format, &error) ||
        take_value(arg, "--suppressions", argc, argv, &i, &out->suppressions, &error) ||
        take_value(arg, "--source-root", argc, argv, &i, &out->source_root, &error) ||
        take_value(arg, "--output", argc, argv, &i, &out->output, &error) ||
        take_value(arg, "-o", argc, argv, &i, &out->output, &error)) {
      if (!error.empty()) return error;
      continue;
    }
    if (std::string dir; take_value(arg, "--debug-dir", argc, argv, &i, &dir, &error)) {
      if (!error.empty()) return error;
      if (dir.empty()) return "racetrap: report: --debug-dir needs a directory";
      out->debug_dirs.push_back(dir);
      continue;
    }
    if (arg.size() > 1 && arg[0] == '-') return fmt::format("racetrap: report: unknown option '{}'", arg);
    out->files.push_back(arg);
  }
  if (out->files.empty()) return "racetrap: report: no report files given (usage: racetrap report [options] FILE...)";
  return {};
}

}  // namespace

int report_command(int argc, char** argv) {
  ReportArgs args;
  if (std::string error = parse_args(argc, argv, &args); !error.empty()) {
    fmt::print(stderr, "{}\n", error);
    return 2;
  }
  if (args.help) {
    print_usage(false);
    return 0;
  }
  std::vector<ReportFormat> formats;
  if (std::string problem = parse_formats(args.format, &formats); !problem.empty()) {
    fmt::print(stderr, "racetrap: report: --format={}: {}\n", args.format, problem);
    return 2;
  }
  if (formats.size() > 1 && args.output.empty()) {
    fmt::print(stderr, "racetrap: report: several formats need --output BASE (written to BASE, "
                       "BASE.json, BASE.sarif)\n");
    return 2;
  }

  int status = 0;
  std::vector<ReportModel> models;
  for (const std::string& file : args.files) {
    std::string error, warning;
    std::optional<ReportModel> model = load_report(file, &error, &warning, args.debug_dirs);
    if (!warning.empty()) fmt::print(stderr, "racetrap: warning: {}\n", warning);
    if (!model) {
      fmt::print(stderr, "racetrap: {}\n", error);
      status = 1;
      continue;
    }
    models.push_back(std::move(*model));
  }
  if (models.empty()) return 1;
  ReportModel merged = merge_report_models(models);
  Suppressions rules;
  if (!args.suppressions.empty()) {
    rules = load_suppressions(args.suppressions);
    for (const std::string& e : rules.errors) fmt::print(stderr, "racetrap: {}\n", e);
  }
  apply_suppressions(rules, &merged);

  if (!args.output.empty()) {
    std::vector<WrittenReport> written = write_reports(merged, args.output, formats, args.source_root);
    fmt::print(stderr, "{}\n", written_summary(merged.races, written));
    return status;
  }
  std::string text = render_report(merged, formats[0], args.source_root);
  if (text.empty()) {
    text = fmt::format("racetrap: 0 distinct data races in {} run{}\n", merged.runs.size(),
                       merged.runs.size() == 1 ? "" : "s");
  }
  std::fwrite(text.data(), 1, text.size(), stdout);
  return status;
}

}  // namespace racetrap
