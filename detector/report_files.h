// report_files.h — finds the race reports one `racetrap run` produced.
#pragma once

#include <sys/types.h>
#include <time.h>

#include <map>
#include <string>
#include <vector>

namespace racetrap {

// The `<prefix>.<N>` files (N all digits) that exist before the program starts,
// with what identifies their current contents (inode, size, mtime).
struct ReportSnapshot {
  struct Stamp {
    ino_t ino;
    off_t size;
    struct timespec mtime;
  };
  std::map<std::string, Stamp> files;
};
ReportSnapshot snapshot_reports(const std::string& prefix);

// The non-empty `<prefix>.<N>` files created or rewritten since `before`: the
// program's own `<prefix>.<child>` first, then those of its child processes in pid
// order. Comparing with a snapshot rather than a start time keeps reports of an
// earlier run in the same tick out (file times come from a coarse clock).
std::vector<std::string> find_reports(const std::string& prefix, pid_t child,
                                      const ReportSnapshot& before);

// Copies the file to stderr; false if it cannot be read.
bool copy_to_stderr(const std::string& path);

}  // namespace racetrap
