// report_library.h — the interface between libracetrap.so and
// libracetrap_report.so. Rendering (raw stream reader, libdw symbolizer, report
// model, text/JSON/SARIF renderers, suppressions) lives in the report library so
// the preloaded library maps none of it while the program runs;
// preload/lifecycle/exit_report.cc
// dlopens it at exit (or before exec) only when there is something to render.
// Contract: both libraries are built from the same tree; a request whose version
// or size differs is refused (the caller then falls back to its one-line message).
#pragma once

#include <cstdint>

#include "flags.h"
#include "run_stats.h"

namespace racetrap {

// The report library's file name; it is installed next to libracetrap.so (the
// same directory in the build tree and in <libdir>/racetrap).
inline constexpr const char* kReportLibraryName = "libracetrap_report.so";
inline constexpr const char* kRenderEntryName = "racetrap_render_exit_report";
inline constexpr uint32_t kExitReportVersion = 1;

struct ExitReportRequest {
  uint32_t version = kExitReportVersion;
  uint32_t size = sizeof(ExitReportRequest);
  const Flags* flags = nullptr;
  const RunStats* stats = nullptr;
  const char* log_prefix = "";  // absolute RACETRAP_LOG_PATH, or "stderr"
  uint32_t pid = 0;
  const char* raw_path = "";    // the raw stream, meaningful when raw_opened
  bool raw_opened = false;      // the raw stream exists and was sealed
  uint64_t races_written = 0;   // race records in the raw stream
};

// In libracetrap_report.so (ordinary context). Renders the raw stream into the
// report files of RACETRAP_FORMAT after RACETRAP_SUPPRESSIONS, writes the summary
// line, and the suppression and statistics lines when asked. Returns 1 when the
// raw stream was read and rendered (the caller then removes it), 0 when it was
// not (it stays for `racetrap report`), -1 when the request is not understood.
using RenderExitReportFn = int (*)(const ExitReportRequest* request);

}  // namespace racetrap
