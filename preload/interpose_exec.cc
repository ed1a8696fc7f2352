// interpose_exec.cc — exec replaces the image without running destructors: write
// this image's report first, so nothing found before the exec is lost and the new
// image (same pid) starts with no raw stream of ours in its way.
#include <unistd.h>

#include <cstdarg>
#include <vector>

#include "exit_report.h"
#include "real_function.h"
#include "thread_state.h"

namespace racetrap {
namespace {

void report_before_exec() {
  Runtime& rt = runtime();
  if (!rt.active || !rt.raw_log.opened()) return;
  RuntimeScope scope;
  finish_report(rt);
}

// The arguments of execl/execlp/execle as an argv vector; *envp_out gets the
// environment that follows the NULL for execle.
std::vector<char*> collect_args(const char* arg0, va_list ap, char*** envp_out) {
  std::vector<char*> argv{const_cast<char*>(arg0)};
  if (arg0 != nullptr) {
    while (char* a = va_arg(ap, char*)) argv.push_back(a);
  }
  argv.push_back(nullptr);
  if (envp_out != nullptr) *envp_out = va_arg(ap, char**);
  return argv;
}

}  // namespace

RACETRAP_INTERPOSE int execve(const char* path, char* const argv[], char* const envp[]) {
  static auto real = next_function<int (*)(const char*, char* const[], char* const[])>("execve");
  report_before_exec();
  return real(path, argv, envp);
}

RACETRAP_INTERPOSE int execv(const char* path, char* const argv[]) {
  static auto real = next_function<int (*)(const char*, char* const[])>("execv");
  report_before_exec();
  return real(path, argv);
}

RACETRAP_INTERPOSE int execvp(const char* file, char* const argv[]) {
  static auto real = next_function<int (*)(const char*, char* const[])>("execvp");
  report_before_exec();
  return real(file, argv);
}

RACETRAP_INTERPOSE int execvpe(const char* file, char* const argv[], char* const envp[]) {
  static auto real = next_function<int (*)(const char*, char* const[], char* const[])>("execvpe");
  report_before_exec();
  return real(file, argv, envp);
}

RACETRAP_INTERPOSE int fexecve(int fd, char* const argv[], char* const envp[]) {
  static auto real = next_function<int (*)(int, char* const[], char* const[])>("fexecve");
  report_before_exec();
  return real(fd, argv, envp);
}

RACETRAP_INTERPOSE int execl(const char* path, const char* arg, ...) {
  va_list ap;
  va_start(ap, arg);
  std::vector<char*> argv = collect_args(arg, ap, nullptr);
  va_end(ap);
  return execv(path, argv.data());
}

RACETRAP_INTERPOSE int execlp(const char* file, const char* arg, ...) {
  va_list ap;
  va_start(ap, arg);
  std::vector<char*> argv = collect_args(arg, ap, nullptr);
  va_end(ap);
  return execvp(file, argv.data());
}

RACETRAP_INTERPOSE int execle(const char* path, const char* arg, ...) {
  va_list ap;
  va_start(ap, arg);
  char** envp = nullptr;
  std::vector<char*> argv = collect_args(arg, ap, &envp);
  va_end(ap);
  return execve(path, argv.data(), envp);
}

}  // namespace racetrap
