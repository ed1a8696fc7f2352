// run_findings.cc — see run_findings.h.
#include "run_findings.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace racetrap {

void note_findings_for_racetrap_run(uint32_t pid, uint64_t reports) {
  const char* path = std::getenv(kRunFindingsVariable);
  if (path == nullptr || *path == '\0' || reports == 0) return;
  int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return;
  char line[64];
  int n = std::snprintf(line, sizeof line, "pid %u reports %llu\n", pid, static_cast<unsigned long long>(reports));
  if (n > 0) (void)!write(fd, line, static_cast<size_t>(n));
  close(fd);
}

}  // namespace racetrap
