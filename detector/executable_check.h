// executable_check.h — can LD_PRELOAD reach the program `racetrap run` is about to start?
#pragma once

#include <string>

namespace racetrap {

struct ExecutableCheck {
  std::string path;     // resolved like execvp does (PATH search); empty if not found
  std::string refusal;  // one line: why racetrap will not run it (static, 32-bit); empty if fine
  std::string warning;  // one line: why races may be missed (setuid/setgid); empty if none
};

// Resolves `command` along PATH and inspects the file: ELF program headers (no
// PT_INTERP means statically linked), ELF class, set-user/group-ID bits.
// A file that cannot be found or is not ELF (a script) yields no refusal: execvp
// reports the former, and a script's interpreter is checked by the loader.
ExecutableCheck check_executable(const char* command);

}  // namespace racetrap
