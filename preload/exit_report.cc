// exit_report.cc — render the raw stream (symbolized, deduplicated) into
// <log_prefix>.<pid>, never overwriting a file, and say where it is.
#include "exit_report.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <string>

#include "raw_log_reader.h"
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

bool write_all(int fd, const std::string& text) {
  const char* p = text.data();
  size_t left = text.size();
  while (left > 0) {
    ssize_t n = write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    left -= static_cast<size_t>(n);
  }
  return true;
}

// Creates a new report file: <prefix>.<pid>, else <prefix>.<pid>.1, .2, ...
int create_report_file(const std::string& base, std::string* path) {
  for (int i = 0; i < 100; ++i) {
    *path = i == 0 ? base : fmt::format("{}.{}", base, i);
    int fd = open(path->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0 || errno != EEXIST) return fd;
  }
  return -1;
}

}  // namespace

void finish_report(Runtime& rt) {
  if (rt.flags.verbosity >= 1) {
    const RunStats& s = rt.stats;
    write_stderr_line(fmt::format("racetrap: stats: samples={} in-runtime={} no-access={} filtered={} published={} "
                                  "arms={} traps={} stale={} races={}",
                                  s.samples.load(), s.samples_in_runtime.load(), s.samples_no_access.load(),
                                  s.samples_filtered.load(), s.watches_published.load(), s.arms.load(),
                                  s.traps.load(), s.traps_stale.load(), s.races.load())
                          .c_str());
  }
  if (rt.raw_log.failed()) {
    write_stderr_line(fmt::format("racetrap: races were found but {} could not be created ({})", rt.raw_path,
                                  std::strerror(rt.raw_log.error()))
                          .c_str());
    return;
  }
  if (!rt.raw_log.opened()) return;
  std::string error;
  std::optional<RawLog> log = read_raw_log(rt.raw_path, &error);
  if (!log) {
    write_stderr_line(fmt::format("racetrap: {}", error).c_str());
    return;
  }
  Symbolizer symbolizer(read_self_maps());
  TextReport report = render_text_report(*log, symbolizer);
  if (report.race_count == 0) return;
  std::string where;
  bool to_stderr = std::strcmp(rt.log_prefix, "stderr") == 0;
  if (!to_stderr) {
    std::string path;
    int fd = create_report_file(fmt::format("{}.{}", rt.log_prefix, rt.pid), &path);
    if (fd >= 0 && write_all(fd, report.text)) {
      close(fd);
      where = path;
    } else {
      if (fd >= 0) close(fd);
      write_stderr_line(fmt::format("racetrap: cannot write the report to {} ({}); here it is:", path,
                                    std::strerror(errno))
                            .c_str());
      to_stderr = true;
    }
  }
  if (to_stderr) {
    write_all(2, report.text);
    where = "stderr";
  }
  rt.raw_log.close();
  unlink(rt.raw_path);
  write_stderr_line(fmt::format("racetrap: {} data race{}, report: {}", report.race_count,
                                report.race_count == 1 ? "" : "s", where)
                        .c_str());
}

}  // namespace racetrap
