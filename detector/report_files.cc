// report_files.cc — lists the `<log_path>.<pid>[.N][.json|.sarif|.raw]` files
// written since a run started.
#include "report_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

namespace racetrap {
namespace {

bool all_digits(const std::string& s) {
  return !s.empty() && s.size() <= 10 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The kind of `<pid>REST` after the prefix: REST is "", ".N", ".json", ".N.json",
// ".sarif", ".N.sarif" or ".raw"; false for anything else.
bool classify(const std::string& rest, ReportFileKind* kind) {
  auto ends = [&](const std::string& suffix, std::string* head) {
    if (rest.size() < suffix.size() || rest.compare(rest.size() - suffix.size(), suffix.size(), suffix) != 0)
      return false;
    *head = rest.substr(0, rest.size() - suffix.size());
    return true;
  };
  std::string head = rest;
  *kind = ReportFileKind::kText;
  if (rest == ".raw") {
    *kind = ReportFileKind::kRaw;
    return true;
  }
  if (ends(".json", &head)) *kind = ReportFileKind::kJson;
  else if (ends(".sarif", &head)) *kind = ReportFileKind::kSarif;
  return head.empty() || (head[0] == '.' && all_digits(head.substr(1)));
}

// Calls fn(path, pid, kind, stat) for every regular report file of `prefix`.
template <typename Fn>
void for_each_report_file(const std::string& prefix, Fn fn) {
  size_t slash = prefix.rfind('/');
  if (slash == std::string::npos) return;  // prefix is absolute
  std::string dir = slash == 0 ? "/" : prefix.substr(0, slash);
  std::string base = prefix.substr(slash + 1) + ".";
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return;
  while (struct dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.size() <= base.size() || name.compare(0, base.size(), base) != 0) continue;
    std::string tail = name.substr(base.size());
    size_t digits = 0;
    while (digits < tail.size() && tail[digits] >= '0' && tail[digits] <= '9') ++digits;
    std::string pid_text = tail.substr(0, digits);
    ReportFileKind kind;
    if (!all_digits(pid_text) || !classify(tail.substr(digits), &kind)) continue;
    std::string path = (dir == "/" ? "" : dir) + "/" + name;
    struct stat st;
    if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    fn(path, std::strtol(pid_text.c_str(), nullptr, 10), kind, st);
  }
  closedir(d);
}

bool same_time(const struct timespec& a, const struct timespec& b) {
  return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

}  // namespace

ReportSnapshot snapshot_reports(const std::string& prefix) {
  ReportSnapshot snap;
  for_each_report_file(prefix, [&](const std::string& path, long, ReportFileKind, const struct stat& st) {
    snap.files[path] = {st.st_ino, st.st_size, st.st_mtim};
  });
  return snap;
}

std::vector<ReportFile> find_reports(const std::string& prefix, pid_t child, const ReportSnapshot& before) {
  std::vector<std::pair<long, ReportFile>> found;
  for_each_report_file(prefix, [&](const std::string& path, long pid, ReportFileKind kind,
                                   const struct stat& st) {
    if (st.st_size == 0) return;
    auto old = before.files.find(path);
    if (old != before.files.end() && old->second.ino == st.st_ino &&
        old->second.size == st.st_size && same_time(old->second.mtime, st.st_mtim))
      return;  // there before the program started, unchanged
    found.emplace_back(pid == child ? -1 : pid, ReportFile{path, pid, kind});  // the program's first
  });
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : a.second.path < b.second.path;
  });
  std::vector<ReportFile> files;
  for (auto& [order, file] : found) files.push_back(std::move(file));
  return files;
}

bool copy_to_stderr(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(STDERR_FILENO, buf + off, static_cast<size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        close(fd);
        return false;
      }
      off += w;
    }
  }
  close(fd);
  return true;
}

}  // namespace racetrap
