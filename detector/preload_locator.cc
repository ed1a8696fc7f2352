// preload_locator.cc — finds libracetrap.so relative to /proc/self/exe.
#include "preload_locator.h"

#include <fmt/core.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#ifndef RACETRAP_INSTALLED_PRELOAD_DIR
#define RACETRAP_INSTALLED_PRELOAD_DIR "lib/racetrap"
#endif

namespace racetrap {
namespace {

constexpr const char* kLibraryName = "libracetrap.so";

std::string self_dir() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return {};
  buf[n] = '\0';
  std::string path(buf);
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string{} : path.substr(0, slash);
}

// The canonical path of `path` if it names a readable file, else empty.
std::string usable(const std::string& path) {
  if (access(path.c_str(), R_OK) != 0) return {};
  char* real = realpath(path.c_str(), nullptr);
  if (real == nullptr) return {};
  std::string out(real);
  free(real);
  return out;
}

// LD_PRELOAD splits its value at spaces and colons.
bool preloadable(const std::string& path, std::string* error) {
  if (path.find_first_of(" :") == std::string::npos) return true;
  *error = fmt::format("racetrap: the preload path '{}' contains a space or colon, which "
                       "LD_PRELOAD cannot carry; set RACETRAP_PRELOAD to a copy elsewhere",
                       path);
  return false;
}

}  // namespace

std::optional<std::string> locate_preload(std::string* error) {
  if (const char* env = getenv("RACETRAP_PRELOAD"); env != nullptr && *env != '\0') {
    std::string found = usable(env);
    if (found.empty()) {
      *error = fmt::format("racetrap: RACETRAP_PRELOAD='{}' is not a readable file: {}", env,
                           std::strerror(errno ? errno : ENOENT));
      return std::nullopt;
    }
    if (!preloadable(found, error)) return std::nullopt;
    return found;
  }
  std::string dir = self_dir();
  if (dir.empty()) {
    *error = "racetrap: cannot read /proc/self/exe to find libracetrap.so; set RACETRAP_PRELOAD";
    return std::nullopt;
  }
  const std::vector<std::string> candidates = {
      dir + "/../preload/" + kLibraryName,                                // build tree
      dir + "/../" RACETRAP_INSTALLED_PRELOAD_DIR "/" + kLibraryName,  // installed
  };
  for (const std::string& candidate : candidates) {
    std::string found = usable(candidate);
    if (found.empty()) continue;
    if (!preloadable(found, error)) return std::nullopt;
    return found;
  }
  std::string looked;
  for (const std::string& candidate : candidates) looked += (looked.empty() ? "" : ", ") + candidate;
  *error = fmt::format("racetrap: cannot find {} (looked at {}); set RACETRAP_PRELOAD to its path",
                       kLibraryName, looked);
  return std::nullopt;
}

}  // namespace racetrap
