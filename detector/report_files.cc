// report_files.cc — lists `<log_path>.<pid>` reports written since a run started.
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

// Calls fn(path, pid, stat) for every regular `<prefix>.<N>` file.
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
    std::string pid_text = name.substr(base.size());
    if (!all_digits(pid_text)) continue;
    std::string path = (dir == "/" ? "" : dir) + "/" + name;
    struct stat st;
    if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    fn(path, std::strtol(pid_text.c_str(), nullptr, 10), st);
  }
  closedir(d);
}

bool same_time(const struct timespec& a, const struct timespec& b) {
  return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

}  // namespace

ReportSnapshot snapshot_reports(const std::string& prefix) {
  ReportSnapshot snap;
  for_each_report_file(prefix, [&](const std::string& path, long, const struct stat& st) {
    snap.files[path] = {st.st_ino, st.st_size, st.st_mtim};
  });
  return snap;
}

std::vector<std::string> find_reports(const std::string& prefix, pid_t child,
                                      const ReportSnapshot& before) {
  std::vector<std::pair<long, std::string>> found;
  for_each_report_file(prefix, [&](const std::string& path, long pid, const struct stat& st) {
    if (st.st_size == 0) return;
    auto old = before.files.find(path);
    if (old != before.files.end() && old->second.ino == st.st_ino &&
        old->second.size == st.st_size && same_time(old->second.mtime, st.st_mtim))
      return;  // there before the program started, unchanged
    found.emplace_back(pid == child ? -1 : pid, path);  // the program's own report first
  });
  std::sort(found.begin(), found.end());
  std::vector<std::string> paths;
  for (auto& [pid, path] : found) paths.push_back(std::move(path));
  return paths;
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
