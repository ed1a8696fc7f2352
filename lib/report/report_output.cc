// report_output.cc — format selection, rendering and exclusive file creation
// for report files (see report_output.h).
#include "report_output.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "json_report.h"
#include "signal_safety.h"
#include "sarif_report.h"
#include "text_report.h"

namespace racetrap {
namespace {

bool write_all(int fd, const std::string& text) { return write_fully(fd, text.data(), text.size()); }

// Creates a new file: <base><suffix>, else <base>.1<suffix>, .2, ...
int create_exclusive(const std::string& base, const char* suffix, std::string* path) {
  for (int i = 0; i < 100; ++i) {
    *path = i == 0 ? base + suffix : fmt::format("{}.{}{}", base, i, suffix);
    int fd = open(path->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0 || errno != EEXIST) return fd;
  }
  return -1;
}

}  // namespace

const char* format_name(ReportFormat format) {
  switch (format) {
    case ReportFormat::kText: return "text";
    case ReportFormat::kJson: return "json";
    case ReportFormat::kSarif: return "sarif";
  }
  return "text";
}

const char* format_suffix(ReportFormat format) {
  switch (format) {
    case ReportFormat::kText: return "";
    case ReportFormat::kJson: return ".json";
    case ReportFormat::kSarif: return ".sarif";
  }
  return "";
}

std::string parse_formats(const std::string& list, std::vector<ReportFormat>* out) {
  out->clear();
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    std::string word = list.substr(start, comma - start);
    start = comma + 1;
    while (!word.empty() && word.front() == ' ') word.erase(0, 1);
    while (!word.empty() && word.back() == ' ') word.pop_back();
    if (word.empty()) continue;
    ReportFormat f;
    if (word == "text") f = ReportFormat::kText;
    else if (word == "json") f = ReportFormat::kJson;
    else if (word == "sarif") f = ReportFormat::kSarif;
    else return fmt::format("unknown report format '{}' (use text, json, sarif or a comma list)", word);
    bool have = false;
    for (ReportFormat g : *out) have = have || g == f;
    if (!have) out->push_back(f);
  }
  if (out->empty()) return "no report format given (use text, json, sarif or a comma list)";
  return {};
}

std::string render_report(const ReportModel& model, ReportFormat format, const std::string& source_root) {
  switch (format) {
    case ReportFormat::kText: return render_text(model);
    case ReportFormat::kJson: return render_json_report(model);
    case ReportFormat::kSarif: return render_sarif_report(model, SarifOptions{source_root});
  }
  return {};
}

std::vector<WrittenReport> write_reports(const ReportModel& model, const std::string& base,
                                         const std::vector<ReportFormat>& formats,
                                         const std::string& source_root) {
  std::vector<WrittenReport> written;
  for (ReportFormat format : formats) {
    std::string text = render_report(model, format, source_root);
    if (text.empty()) continue;
    if (base == "stderr") {
      write_all(STDERR_FILENO, text);
      written.push_back({format, "stderr"});
      continue;
    }
    std::string path;
    int fd = create_exclusive(base, format_suffix(format), &path);
    if (fd >= 0 && write_all(fd, text)) {
      close(fd);
      written.push_back({format, path});
      continue;
    }
    int saved = errno;
    if (fd >= 0) close(fd);
    write_all(STDERR_FILENO, fmt::format("racetrap: cannot write the {} report to {} ({}); here it is:\n",
                                         format_name(format), path, std::strerror(saved)));
    write_all(STDERR_FILENO, text);
    written.push_back({format, "stderr"});
  }
  return written;
}

std::string written_summary(const std::vector<RaceReport>& reports, const std::vector<WrittenReport>& written) {
  size_t races = 0, inversions = 0, misuse = 0;
  for (const RaceReport& r : reports) {
    if (r.kind == "data-race") ++races;
    else if (r.kind == "lock-order-inversion") ++inversions;
    else ++misuse;
  }
  std::string out = "racetrap: ";
  auto add = [&out](size_t n, const char* one, const char* many) {
    if (out.size() > 10) out += ", ";
    out += fmt::format("{} {}", n, n == 1 ? one : many);
  };
  if (races > 0 || (inversions == 0 && misuse == 0)) add(races, "data race", "data races");
  if (inversions > 0) add(inversions, "lock-order inversion", "lock-order inversions");
  if (misuse > 0) add(misuse, "pthread misuse", "pthread misuses");
  if (written.empty()) return out;
  std::string also;
  for (size_t i = 1; i < written.size(); ++i) also += (also.empty() ? "" : ", ") + written[i].path;
  out += ", report: " + written[0].path;
  if (!also.empty()) out += " (also " + also + ")";
  return out;
}

}  // namespace racetrap
