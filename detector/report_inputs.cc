// report_inputs.cc — raw streams and JSON reports into report models.
#include "report_inputs.h"

#include <fmt/core.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "json_report.h"
#include "race_record.h"
#include "raw_log_reader.h"
#include "symbolizer.h"

namespace racetrap {

InputKind sniff_input(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InputKind::kUnknown;
  char head[64] = {};
  in.read(head, sizeof head);
  size_t n = static_cast<size_t>(in.gcount());
  if (n >= sizeof kRawMagic && std::memcmp(head, kRawMagic, sizeof kRawMagic) == 0) return InputKind::kRaw;
  size_t i = 0;
  while (i < n && (head[i] == ' ' || head[i] == '\n' || head[i] == '\t' || head[i] == '\r')) ++i;
  if (i < n && head[i] == '{') return InputKind::kJson;
  if (i < n && head[i] == '=') return InputKind::kText;
  return InputKind::kUnknown;
}

std::optional<ReportModel> load_report(const std::string& path, std::string* error, std::string* warning,
                                       const std::vector<std::string>& debug_dirs) {
  warning->clear();
  switch (sniff_input(path)) {
    case InputKind::kRaw: {
      std::optional<RawLog> log = read_raw_log(path, error);
      if (!log) return std::nullopt;
      if (!error->empty()) *warning = *error;
      error->clear();
      if (log->truncated) {
        *warning = fmt::format("{}: the stream ends in a torn record (the program was killed while "
                               "writing it); the records before it are shown",
                               path);
      }
      Symbolizer symbolizer(log->maps, debug_dirs);
      return build_report_model(*log, symbolizer, path);
    }
    case InputKind::kJson: {
      std::ifstream in(path, std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      return parse_json_report(text.str(), path, error);
    }
    case InputKind::kText:
      *error = fmt::format("{}: is a text report; give the raw stream (<log_path>.<pid>.raw) or a JSON "
                           "report (RACETRAP_FORMAT=json)",
                           path);
      return std::nullopt;
    case InputKind::kUnknown:
      break;
  }
  std::ifstream probe(path);
  if (!probe) {
    *error = fmt::format("{}: cannot open: {}", path, std::strerror(errno));
  } else {
    *error = fmt::format("{}: not a racetrap report (neither a raw stream nor a JSON report)", path);
  }
  return std::nullopt;
}

}  // namespace racetrap
