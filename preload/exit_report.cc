// exit_report.cc — at exit: raw stream -> report model (symbolized against this
// process's own maps, deduplicated) -> suppressions -> the report files of
// RACETRAP_FORMAT (lib/report_output.h), never overwriting a file; then the
// summary, suppression and statistics lines on stderr.
#include "exit_report.h"

#include <unistd.h>

#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <string>

#include "race_report_model.h"
#include "raw_log_reader.h"
#include "report_output.h"
#include "suppressions.h"
#include "symbolizer.h"
#include "text_report.h"

namespace racetrap {
namespace {

std::string read_self_maps() {
  std::ifstream in("/proc/self/maps");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The run statistics in report order. `suppressed` are race records silenced by
// suppressions; `dropped` are race verdicts that never reached the raw stream.
std::vector<std::pair<std::string, uint64_t>> collect_stats(const Runtime& rt, uint64_t suppressed) {
  const RunStats& s = rt.stats;
  uint64_t races = s.races.load(), repeated = s.races_repeated.load();
  uint64_t written = rt.raw_log.races_written();
  uint64_t dropped = races > repeated + written ? races - repeated - written : 0;
  return {
      {"samples", s.samples.load()},
      {"samples_in_runtime", s.samples_in_runtime.load()},
      {"samples_deferred", s.samples_deferred.load()},
      {"samples_no_access", s.samples_no_access.load()},
      {"samples_filtered", s.samples_filtered.load()},
      {"samples_yielded", s.samples_yielded.load()},
      {"samples_not_chosen", s.samples_not_chosen.load()},
      {"watches_published", s.watches_published.load()},
      {"watches_retired_quiet", s.watches_retired_quiet.load()},
      {"arms", s.arms.load()},
      {"traps", s.traps.load()},
      {"traps_stale", s.traps_stale.load()},
      {"conflicts", s.conflicts.load()},
      {"races", races},
      {"races_repeated", repeated},
      {"races_written", written},
      {"suppressed", suppressed},
      {"dropped", dropped},
  };
}

std::vector<ReportFormat> formats_of(const Flags& flags) {
  std::vector<ReportFormat> formats;
  std::string problem = parse_formats(flags.format, &formats);
  if (!problem.empty()) {
    write_stderr_line(fmt::format("racetrap: RACETRAP_FORMAT='{}': {}; using text", flags.format, problem).c_str());
    formats = {ReportFormat::kText};
  }
  return formats;
}

Suppressions suppressions_of(const Flags& flags) {
  if (flags.suppressions.empty()) return {};
  Suppressions rules = load_suppressions(flags.suppressions);
  for (const std::string& e : rules.errors) write_stderr_line(fmt::format("racetrap: {}", e).c_str());
  return rules;
}

}  // namespace

void finish_report(Runtime& rt) {
  const Flags& flags = rt.flags;
  ReportModel model;
  bool have_log = false;
  if (rt.raw_log.failed()) {
    write_stderr_line(fmt::format("racetrap: races were found but {} could not be created ({})", rt.raw_log.path(),
                                  std::strerror(rt.raw_log.error()))
                          .c_str());
  } else if (rt.raw_log.opened()) {
    std::string error;
    std::optional<RawLog> log = read_raw_log(rt.raw_log.path(), &error);
    if (!log) {
      write_stderr_line(fmt::format("racetrap: {}", error).c_str());
    } else {
      log->maps = read_self_maps();  // newer than the stream's snapshot (dlopen)
      Symbolizer symbolizer(log->maps);
      model = build_report_model(*log, symbolizer);
      have_log = true;
    }
  }
  apply_suppressions(suppressions_of(flags), &model);
  model.stats = collect_stats(rt, total_count(model.suppressed));

  if (!model.races.empty()) {
    bool to_stderr = std::strcmp(rt.log_prefix, "stderr") == 0;
    std::string base = to_stderr ? "stderr" : fmt::format("{}.{}", rt.log_prefix, rt.pid);
    std::vector<WrittenReport> written = write_reports(model, base, formats_of(flags), flags.source_root);
    write_stderr_line(written_summary(model.races, written).c_str());
  }
  if (flags.print_suppressions) {
    std::string listing = suppressions_listing(model);
    if (listing.empty()) listing = fmt::format("racetrap: matched 0 suppressions (pid={})\n", rt.pid);
    listing.pop_back();
    write_stderr_line(listing.c_str());
  }
  if (flags.stats || flags.verbosity >= 1) write_stderr_line(stats_line(model).c_str());
  if (have_log) {
    rt.raw_log.close();
    unlink(rt.raw_log.path());
  }
}

}  // namespace racetrap
