// report_library.cc — libracetrap_report.so's entry point: raw stream -> report
// model (symbolized against this process's own maps, deduplicated) ->
// suppressions -> the report files of RACETRAP_FORMAT (lib/report/report_output.h), never
// overwriting a file; then the summary, suppression and statistics lines on
// stderr. Loaded by the preload at exit only (report_library.h).
#include "report_library.h"

#include <unistd.h>

#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <string>

#include "race_report_model.h"
#include "raw_log_reader.h"
#include "report_output.h"
#include "run_findings.h"
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

// One line on stderr with write(2) (runtime.cc's write_stderr_line is not exported).
void line_to_stderr(const std::string& text) {
  std::string line = text + "\n";
  (void)!write(2, line.data(), line.size());
}

// The run statistics in report order. `suppressed` are race records silenced by
// suppressions; `dropped` are race verdicts that never reached the raw stream.
std::vector<std::pair<std::string, uint64_t>> collect_stats(const RunStats& s, uint64_t written,
                                                            uint64_t suppressed) {
  uint64_t races = s.races.load(), repeated = s.races_repeated.load();
  uint64_t dropped = races > repeated + written ? races - repeated - written : 0;
  std::vector<std::pair<std::string, uint64_t>> stats = {
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
      {"self_test_traps", s.self_test_traps.load()},
      {"conflicts", s.conflicts.load()},
      {"races", races},
      {"races_repeated", repeated},
      {"races_written", written},
      {"suppressed", suppressed},
      {"dropped", dropped},
  };
  if (s.sync_words_learned.load() != 0) {  // hand-written synchronization seen
    stats.insert(stats.end(), {
                                  {"sync_words_learned", s.sync_words_learned.load()},
                                  {"sync_releases", s.sync_releases.load()},
                                  {"sync_ordered", s.sync_ordered.load()},
                                  {"sync_unordered", s.sync_unordered.load()},
                              });
  }
  if (s.clock_to_perf.load() != 0 || s.clock_to_timer.load() != 0) {  // RACETRAP_CLOCK=auto moved threads
    stats.insert(stats.end(), {
                                  {"clock_to_perf", s.clock_to_perf.load()},
                                  {"clock_to_timer", s.clock_to_timer.load()},
                              });
  }
  if (s.samples_thinned.load() != 0) {  // ticks on quiet code lines dropped before decoding
    stats.emplace_back("samples_thinned", s.samples_thinned.load());
  }
  if (s.traps_merged.load() != 0) {  // one access fired several debug registers: one SIGTRAP arrived
    stats.emplace_back("traps_merged", s.traps_merged.load());
  }
  if (s.string_ops_plain.load() != 0) {  // copies made while a debug register was armed
    stats.emplace_back("string_ops_plain", s.string_ops_plain.load());
  }
  if (s.string_ops_faulted_in.load() != 0) {  // large copies' fresh pages faulted in unarmed
    stats.emplace_back("string_ops_faulted_in", s.string_ops_faulted_in.load());
  }
  if (s.io_calls_unarmed.load() != 0) {  // large reads and writes made with the registers off
    stats.emplace_back("io_calls_unarmed", s.io_calls_unarmed.load());
  }
  if (s.fault_pauses.load() != 0) {  // registers off while a thread took page faults fast
    stats.emplace_back("fault_pauses", s.fault_pauses.load());
  }
  if (s.fault_pauses_at_alloc.load() != 0) {  // the same, started by a large fresh allocation
    stats.emplace_back("fault_pauses_at_alloc", s.fault_pauses_at_alloc.load());
  }
  if (s.samples_postponed.load() != 0) {  // ticks in a lock call taken after its acquire
    stats.emplace_back("samples_postponed", s.samples_postponed.load());
  }
  if (s.missed_ticks_taken.load() != 0) {  // a creator's ticks its children's clocks took over
    stats.emplace_back("missed_ticks_taken", s.missed_ticks_taken.load());
  }
  if (s.stalls.load() != 0) {  // value-change mode
    stats.insert(stats.end(), {
                                  {"stalls", s.stalls.load()},
                                  {"stall_us", s.stall_ns.load() / 1000},
                                  {"value_changes", s.value_changes.load()},
                                  {"value_changes_ignored", s.value_changes_ignored.load()},
                                  {"writer_searches", s.writer_searches.load()},
                                  {"writers_found", s.writers_found.load()},
                              });
  }
  return stats;
}

std::vector<ReportFormat> formats_of(const Flags& flags) {
  std::vector<ReportFormat> formats;
  std::string problem = parse_formats(flags.format, &formats);
  if (!problem.empty()) {
    line_to_stderr(fmt::format("racetrap: RACETRAP_FORMAT='{}': {}; using text", flags.format, problem));
    formats = {ReportFormat::kText};
  }
  return formats;
}

Suppressions suppressions_of(const Flags& flags) {
  if (flags.suppressions.empty()) return {};
  Suppressions rules = load_suppressions(flags.suppressions);
  for (const std::string& e : rules.errors) line_to_stderr(fmt::format("racetrap: {}", e));
  return rules;
}

int render(const ExitReportRequest& request) {
  const Flags& flags = *request.flags;
  ReportModel model;
  bool rendered = false;
  if (request.raw_opened) {
    std::string error;
    std::optional<RawLog> log = read_raw_log(request.raw_path, &error);
    if (!log) {
      line_to_stderr(fmt::format("racetrap: {}", error));
    } else {
      log->maps = read_self_maps();  // newer than the stream's snapshot (dlopen)
      Symbolizer symbolizer(log->maps);
      model = build_report_model(*log, symbolizer);
      rendered = true;
    }
  }
  apply_suppressions(suppressions_of(flags), &model);
  model.stats = collect_stats(*request.stats, request.races_written, total_count(model.suppressed));

  if (!model.races.empty()) {
    bool to_stderr = std::strcmp(request.log_prefix, "stderr") == 0;
    std::string base = to_stderr ? "stderr" : fmt::format("{}.{}", request.log_prefix, request.pid);
    std::vector<WrittenReport> written = write_reports(model, base, formats_of(flags), flags.source_root);
    line_to_stderr(written_summary(model.races, written));
    note_findings_for_racetrap_run(request.pid, model.races.size());
  }
  if (flags.print_suppressions) {
    std::string listing = suppressions_listing(model);
    if (listing.empty()) listing = fmt::format("racetrap: matched 0 suppressions (pid={})\n", request.pid);
    listing.pop_back();
    line_to_stderr(listing);
  }
  if (flags.stats || flags.verbosity >= 1) line_to_stderr(stats_line(model));
  return rendered ? 1 : 0;
}

}  // namespace
}  // namespace racetrap

extern "C" __attribute__((visibility("default"))) int racetrap_render_exit_report(
    const racetrap::ExitReportRequest* request) {
  if (request == nullptr || request->version != racetrap::kExitReportVersion ||
      request->size != sizeof(racetrap::ExitReportRequest) || request->flags == nullptr ||
      request->stats == nullptr)
    return -1;
  try {
    return racetrap::render(*request);
  } catch (const std::exception& e) {
    racetrap::line_to_stderr(fmt::format("racetrap: rendering the report failed: {}", e.what()));
    return 0;
  }
}
