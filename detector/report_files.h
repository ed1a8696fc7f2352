// report_files.h — finds the report files one `racetrap run` produced:
// <prefix>.<pid> (text; <prefix>.<pid>.N when the name was taken), .json, .sarif,
// and leftover raw streams <prefix>.<pid>.raw of programs that did not finish.
#pragma once

#include <sys/types.h>
#include <time.h>

#include <map>
#include <string>
#include <vector>

namespace racetrap {

enum class ReportFileKind { kText, kJson, kSarif, kRaw };

struct ReportFile {
  std::string path;
  long pid = 0;
  ReportFileKind kind = ReportFileKind::kText;
};

// The report files that exist before the program starts, with what identifies
// their current contents (inode, size, mtime).
struct ReportSnapshot {
  struct Stamp {
    ino_t ino;
    off_t size;
    struct timespec mtime;
  };
  std::map<std::string, Stamp> files;
};
ReportSnapshot snapshot_reports(const std::string& prefix);

// The non-empty report files created or rewritten since `before`: those of the
// program (pid `child`) first, then those of its child processes in pid order.
// Comparing with a snapshot rather than a start time keeps reports of an earlier
// run in the same tick out (file times come from a coarse clock).
std::vector<ReportFile> find_reports(const std::string& prefix, pid_t child, const ReportSnapshot& before);

// Copies the file to stderr; false if it cannot be read.
bool copy_to_stderr(const std::string& path);

}  // namespace racetrap
