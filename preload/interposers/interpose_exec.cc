// interpose_exec.cc — exec replaces the image without running destructors: write
// this image's report first, so nothing found before the exec is lost and the new
// image (same pid) starts with no raw stream of ours in its way.
#include <alloca.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstddef>

#include "exit_report.h"
#include "real_function.h"
#include "sigtrap_mask.h"
#include "thread_state.h"

namespace racetrap {
namespace {

// A vfork() child shares the parent's memory: it must leave the parent's stream
// and report alone (the exec'd image reports for itself).
bool report_before_exec() {
  Runtime& rt = runtime();
  if (!rt.active || !rt.raw_log.opened() || !in_own_process()) return false;
  RuntimeScope scope;
  rt.raw_log.seal();
  finish_report(rt);
  return true;
}

// The exec failed and this image goes on: start a new stream (the report written
// above stays; a later one gets the next free name).
void resume_after_failed_exec(bool reported) {
  if (!reported) return;
  Runtime& rt = runtime();
  int saved = errno;
  rt.raw_log.configure(rt.raw_path, rt.pid);
  errno = saved;
}

template <typename Fn, typename... Args>
int exec_with_report(Fn real, Args... args) {
  bool reported = report_before_exec();
  // The new image starts with the mask the program believes it has: SIGTRAP
  // blocked when it blocked it (racetrap in the new image adopts that view).
  RealSigtrapBlock keep_view;
  int rc = real(args...);
  resume_after_failed_exec(reported);
  return rc;
}

// The arguments of execl/execlp/execle: how many there are before the NULL, and
// an argv of them (NULL-terminated) in memory the caller provides; *envp_out
// gets the environment that follows the NULL for execle. No allocation: POSIX
// makes execl/execle async-signal-safe, and they are called after vfork, where
// the child shares the parent's heap.
size_t count_args(const char* arg0, va_list ap) {
  size_t n = 0;
  if (arg0 != nullptr) {
    n = 1;
    while (va_arg(ap, char*) != nullptr) ++n;
  }
  return n;
}

void fill_args(const char* arg0, va_list ap, size_t count, char** argv, char*** envp_out) {
  if (count > 0) argv[0] = const_cast<char*>(arg0);
  for (size_t i = 1; i < count; ++i) argv[i] = va_arg(ap, char*);
  if (count > 0) (void)va_arg(ap, char*);  // the terminating NULL
  argv[count] = nullptr;
  if (envp_out != nullptr) *envp_out = va_arg(ap, char**);
}

}  // namespace

RACETRAP_INTERPOSE int execve(const char* path, char* const argv[], char* const envp[]) {
  static auto real = next_function<int (*)(const char*, char* const[], char* const[])>("execve");
  return exec_with_report(real, path, argv, envp);
}

RACETRAP_INTERPOSE int execv(const char* path, char* const argv[]) {
  static auto real = next_function<int (*)(const char*, char* const[])>("execv");
  return exec_with_report(real, path, argv);
}

RACETRAP_INTERPOSE int execvp(const char* file, char* const argv[]) {
  static auto real = next_function<int (*)(const char*, char* const[])>("execvp");
  return exec_with_report(real, file, argv);
}

RACETRAP_INTERPOSE int execvpe(const char* file, char* const argv[], char* const envp[]) {
  static auto real = next_function<int (*)(const char*, char* const[], char* const[])>("execvpe");
  return exec_with_report(real, file, argv, envp);
}

RACETRAP_INTERPOSE int fexecve(int fd, char* const argv[], char* const envp[]) {
  static auto real = next_function<int (*)(int, char* const[], char* const[])>("fexecve");
  return exec_with_report(real, fd, argv, envp);
}

RACETRAP_INTERPOSE int execl(const char* path, const char* arg, ...) {
  va_list ap;
  va_start(ap, arg);
  const size_t count = count_args(arg, ap);
  va_end(ap);
  char** argv = static_cast<char**>(alloca((count + 1) * sizeof(char*)));
  va_start(ap, arg);
  fill_args(arg, ap, count, argv, nullptr);
  va_end(ap);
  return execv(path, argv);
}

RACETRAP_INTERPOSE int execlp(const char* file, const char* arg, ...) {
  va_list ap;
  va_start(ap, arg);
  const size_t count = count_args(arg, ap);
  va_end(ap);
  char** argv = static_cast<char**>(alloca((count + 1) * sizeof(char*)));
  va_start(ap, arg);
  fill_args(arg, ap, count, argv, nullptr);
  va_end(ap);
  return execvp(file, argv);
}

RACETRAP_INTERPOSE int execle(const char* path, const char* arg, ...) {
  va_list ap;
  va_start(ap, arg);
  const size_t count = count_args(arg, ap);
  va_end(ap);
  char** argv = static_cast<char**>(alloca((count + 1) * sizeof(char*)));
  char** envp = nullptr;
  va_start(ap, arg);
  fill_args(arg, ap, count, argv, &envp);
  va_end(ap);
  return execve(path, argv, envp);
}

}  // namespace racetrap
