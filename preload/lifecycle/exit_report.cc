// exit_report.cc — at exit: decides whether anything needs rendering (a raw
// stream was written, or suppressions/statistics were asked for), loads
// libracetrap_report.so from the preload's own directory and hands it the run's
// state (report_library.h); removes the raw stream once it is rendered. The
// preload itself links no renderer, symbolizer or report model: a run that
// records nothing never maps them.
#include "exit_report.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "report_library.h"
#include "run_findings.h"
#include "thread_state.h"

namespace racetrap {
namespace {

// Something for the report library to do: a raw stream to render, a suppressions
// file to read (its errors are reported even when no race matched), a suppression
// listing or the statistics line to print.
bool needs_rendering(const Runtime& rt) {
  const Flags& f = rt.flags;
  return rt.raw_log.opened() || !f.suppressions.empty() || f.print_suppressions || f.stats || f.verbosity >= 1;
}

}  // namespace

bool report_library_path(char* out, unsigned long size) {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&report_library_path), &info) == 0 || info.dli_fname == nullptr) return false;
  const char* slash = std::strrchr(info.dli_fname, '/');
  int dir_len = slash == nullptr ? 1 : static_cast<int>(slash - info.dli_fname);
  const char* dir = slash == nullptr ? "." : info.dli_fname;
  int n = std::snprintf(out, size, "%.*s/%s", dir_len, dir, kReportLibraryName);
  return n > 0 && static_cast<unsigned long>(n) < size;
}

void finish_report(Runtime& rt) {
  if (rt.raw_log.failed()) {
    char line[4400];
    std::snprintf(line, sizeof line, "racetrap: races were found but %s could not be created (%s)", rt.raw_log.path(),
                  std::strerror(rt.raw_log.error()));
    write_stderr_line(line);
    note_findings_for_racetrap_run(rt.pid, 1);
  }
  if (!needs_rendering(rt)) return;

  char path[4200];
  const char* problem = nullptr;
  RenderExitReportFn render = nullptr;
  if (!report_library_path(path, sizeof path)) {
    std::snprintf(path, sizeof path, "%s", kReportLibraryName);
    problem = "the preload's own path is unknown";
  } else if (void* handle = dlopen(path, RTLD_NOW | RTLD_LOCAL)) {
    render = reinterpret_cast<RenderExitReportFn>(dlsym(handle, kRenderEntryName));
    if (render == nullptr) problem = "it has no entry point";
  } else {
    problem = dlerror();
  }

  if (ThreadState* t = current_thread()) fold_thread_counts(t);
  ExitReportRequest request;
  request.flags = &rt.flags;
  request.stats = &rt.stats;
  request.log_prefix = rt.log_prefix;
  request.pid = rt.pid;
  request.raw_path = rt.raw_log.path();
  request.raw_opened = rt.raw_log.opened();
  request.races_written = rt.raw_log.races_written();
  const int rendered = render != nullptr ? render(&request) : -1;
  if (rendered < 0) {
    if (problem == nullptr) problem = "it is from another build";
    char line[9000];
    if (request.raw_opened)
      std::snprintf(line, sizeof line,
                    "racetrap: the reports recorded in %s (%llu data races) were not rendered: cannot load %s (%s); "
                    "render them with `racetrap report %s`",
                    request.raw_path, static_cast<unsigned long long>(request.races_written), path, problem,
                    request.raw_path);
    else
      std::snprintf(line, sizeof line, "racetrap: cannot load %s (%s): no suppression or statistics output", path,
                    problem);
    write_stderr_line(line);
    if (request.raw_opened) note_findings_for_racetrap_run(rt.pid, request.races_written);
    return;
  }
  if (rendered == 1) {
    rt.raw_log.close();
    unlink(rt.raw_log.path());
  }
}

}  // namespace racetrap
