// executable_check.cc — PATH resolution and ELF inspection of the program to run.
#include "executable_check.h"

#include <elf.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <vector>

namespace racetrap {
namespace {

bool is_executable_file(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

std::string resolve(const char* command) {
  if (std::strchr(command, '/') != nullptr) return command;
  const char* path_env = getenv("PATH");
  std::string dirs = path_env != nullptr ? path_env : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + command;
    if (is_executable_file(candidate)) return candidate;
    start = end + 1;
  }
  return {};
}

bool read_at(int fd, void* buf, size_t len, off_t offset) {
  return pread(fd, buf, len, offset) == static_cast<ssize_t>(len);
}

// Fills in refusal for ELF files LD_PRELOAD cannot reach.
void inspect_elf(const std::string& path, ExecutableCheck* out) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;  // e.g. execute-only: let execvp decide
  Elf64_Ehdr eh;
  if (!read_at(fd, &eh, sizeof eh, 0) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) {
    ::close(fd);
    return;  // not ELF: a script or something the kernel's binfmt handles
  }
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64) {
    out->refusal = fmt::format(
        "racetrap: {} is not an x86-64 program; libracetrap.so can only be preloaded into "
        "x86-64 programs",
        path);
    ::close(fd);
    return;
  }
  bool has_interp = false;
  if (eh.e_phentsize == sizeof(Elf64_Phdr)) {
    for (unsigned i = 0; i < eh.e_phnum; ++i) {
      Elf64_Phdr ph;
      if (!read_at(fd, &ph, sizeof ph, static_cast<off_t>(eh.e_phoff + i * sizeof ph))) break;
      if (ph.p_type == PT_INTERP) {
        has_interp = true;
        break;
      }
    }
  }
  ::close(fd);
  if (!has_interp && (eh.e_type == ET_EXEC || eh.e_type == ET_DYN)) {
    out->refusal = fmt::format(
        "racetrap: {} is statically linked; LD_PRELOAD cannot reach it, so no races can be found",
        path);
  }
}

}  // namespace

ExecutableCheck check_executable(const char* command) {
  ExecutableCheck out;
  out.path = resolve(command);
  if (out.path.empty()) return out;
  inspect_elf(out.path, &out);
  struct stat st;
  if (out.refusal.empty() && stat(out.path.c_str(), &st) == 0 &&
      (st.st_mode & (S_ISUID | S_ISGID)) != 0) {
    const bool changes_user = (st.st_mode & S_ISUID) != 0 && st.st_uid != geteuid();
    const bool changes_group = (st.st_mode & S_ISGID) != 0 && st.st_gid != getegid();
    if (changes_user || changes_group) {
      out.warning = fmt::format(
          "racetrap: warning: {} is set-{}-ID; the dynamic loader ignores LD_PRELOAD for it, so "
          "races will not be found (running it anyway)",
          out.path, changes_user ? "user" : "group");
    } else {
      out.warning = fmt::format(
          "racetrap: warning: {} is set-{}-ID; LD_PRELOAD reaches it only because you already "
          "run as its owner",
          out.path, (st.st_mode & S_ISUID) != 0 ? "user" : "group");
    }
  }
  return out;
}

}  // namespace racetrap
