// run_command.cc — `racetrap run [options] [--] cmd args...`: preload, run, report.
#include <errno.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <string>
#include <vector>

#include "commands.h"
#include "copy_tunables.h"
#include "executable_check.h"
#include "flags.h"
#include "perf_support.h"
#include "preload_locator.h"
#include "report_files.h"
#include "report_inputs.h"
#include "report_output.h"
#include "run_options.h"
#include "suppressions.h"
#include "trap_test.h"

namespace racetrap {
namespace {

volatile sig_atomic_t g_child = 0;

// SIGINT/SIGTERM sent to racetrap go on to the program. A terminal's Ctrl-C
// (si_code SI_KERNEL) already reached the program through its process group.
void forward_signal(int sig, siginfo_t* info, void*) {
  if (g_child > 0 && info->si_code != SI_KERNEL) kill(g_child, sig);
}

void install_forwarding() {
  struct sigaction sa {};
  sa.sa_sigaction = forward_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

std::string absolute_log_path(const std::string& log_path) {
  if (log_path.empty() || log_path == "stderr" || log_path[0] == '/') return log_path;
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof cwd) == nullptr) return log_path;
  std::string dir = cwd;
  return (dir == "/" ? "" : dir) + "/" + log_path;
}

void set_environment(const RunOptions& options, const std::string& preload,
                     const std::string& log_path) {
  for (const auto& [name, value] : options.exports) {
    if (value.empty()) unsetenv(name.c_str());  // an empty default: the variable is unset
    else setenv(name.c_str(), value.c_str(), 1);
  }
  setenv("RACETRAP_LOG_PATH", log_path.c_str(), 1);
  // The program may change directory before it reads these at exit.
  if (!options.flags.suppressions.empty())
    setenv("RACETRAP_SUPPRESSIONS", absolute_log_path(options.flags.suppressions).c_str(), 1);
  if (!options.flags.source_root.empty())
    setenv("RACETRAP_SOURCE_ROOT", absolute_log_path(options.flags.source_root).c_str(), 1);

  const char* existing = getenv("LD_PRELOAD");
  std::string value = preload;
  if (existing != nullptr && *existing != '\0') value += std::string(":") + existing;
  setenv("LD_PRELOAD", value.c_str(), 1);
  if (options.flags.enable && options.flags.fast_copy)
    setenv("GLIBC_TUNABLES", with_fast_copy_tunables(getenv("GLIBC_TUNABLES")).c_str(), 1);
}

// Starts the command; returns its pid, or -1 after printing why it could not start.
pid_t start_program(const RunOptions& options) {
  int status_pipe[2];
  if (pipe2(status_pipe, O_CLOEXEC) != 0) {
    fmt::print(stderr, "racetrap: pipe: {}\n", std::strerror(errno));
    return -1;
  }
  std::vector<char*> argv = options.command;
  argv.push_back(nullptr);
  // SIGINT/SIGTERM stay blocked until g_child names the program, so one that
  // arrives meanwhile is forwarded rather than lost.
  sigset_t forwarded, old_mask;
  sigemptyset(&forwarded);
  sigaddset(&forwarded, SIGINT);
  sigaddset(&forwarded, SIGTERM);
  sigprocmask(SIG_BLOCK, &forwarded, &old_mask);
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    fmt::print(stderr, "racetrap: fork: {}\n", std::strerror(errno));
    return -1;
  }
  if (pid == 0) {
    close(status_pipe[0]);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    execvp(argv[0], argv.data());
    int err = errno;
    ssize_t ignored = write(status_pipe[1], &err, sizeof err);
    (void)ignored;
    _exit(127);
  }
  g_child = pid;
  sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  close(status_pipe[1]);
  int err = 0;
  ssize_t n;
  do {
    n = read(status_pipe[0], &err, sizeof err);
  } while (n < 0 && errno == EINTR);
  close(status_pipe[0]);
  if (n == static_cast<ssize_t>(sizeof err)) {
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    g_child = 0;
    fmt::print(stderr, "racetrap: cannot run '{}': {}\n", argv[0], std::strerror(err));
    return -1;
  }
  return pid;
}

// Renders the raw streams left by processes that did not exit normally (a crash,
// a kill, _exit) into the report files they would have written. Returns true when
// it wrote any. A rendered raw stream is removed; one that cannot be read stays.
bool render_leftovers(const RunOptions& options, const std::string& log_path,
                      const std::vector<ReportFile>* files_in) {
  const std::vector<ReportFile>& files = *files_in;
  std::vector<ReportFormat> formats;
  if (!parse_formats(options.flags.format, &formats).empty()) formats = {ReportFormat::kText};
  Suppressions rules;
  bool rendered = false;
  for (const ReportFile& file : files) {
    if (file.kind != ReportFileKind::kRaw) continue;
    std::string error, warning;
    std::optional<ReportModel> model = load_report(file.path, &error, &warning);
    if (!model) {
      fmt::print(stderr, "racetrap: {}\n", error);
      continue;
    }
    fmt::print(stderr, "racetrap: process {} did not finish its report (it crashed, was killed or called "
                       "_exit); rendering {}\n", file.pid, file.path);
    if (!warning.empty()) fmt::print(stderr, "racetrap: warning: {}\n", warning);
    if (!options.flags.suppressions.empty() && rules.file.empty()) {
      rules = load_suppressions(options.flags.suppressions);
      for (const std::string& e : rules.errors) fmt::print(stderr, "racetrap: {}\n", e);
    }
    apply_suppressions(rules, &*model);
    if (!model->races.empty()) {
      std::fflush(stderr);
      std::vector<WrittenReport> written = write_reports(
          *model, fmt::format("{}.{}", log_path, file.pid), formats, options.flags.source_root);
      fmt::print(stderr, "{}\n", written_summary(model->races, written));
      rendered = true;
    }
    unlink(file.path.c_str());
  }
  return rendered;
}

// The file the watched processes append to when they report anything
// (lib/run_findings.h): an empty private file in $TMPDIR (or /tmp), named in
// RACETRAP_RUN_FINDINGS. Returns its path, or "" (then only report files count).
std::string create_findings_file() {
  const char* tmp = getenv("TMPDIR");
  std::string path = std::string(tmp != nullptr && *tmp == '/' ? tmp : "/tmp") + "/racetrap-run-XXXXXX";
  int fd = mkostemp(path.data(), O_CLOEXEC);
  if (fd < 0) return {};
  close(fd);
  return path;
}

// Whether a watched process wrote to the findings file, wherever its report went.
bool findings_noted(const std::string& path) {
  struct stat st;
  return !path.empty() && stat(path.c_str(), &st) == 0 && st.st_size > 0;
}

int wait_for(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 127;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 127;
}

}  // namespace

int run_command(int argc, char** argv) {
  RunOptions options;
  if (std::string error = parse_run_options(argc, argv, &options); !error.empty()) {
    fmt::print(stderr, "{}\n", error);
    return 2;
  }
  if (options.help) {
    print_usage(false);
    return 0;
  }
  for (const std::string& warning : options.warnings) fmt::print(stderr, "{}\n", warning);

  ExecutableCheck exe = check_executable(options.command[0]);
  if (!exe.refusal.empty()) {
    fmt::print(stderr, "{}\n", exe.refusal);
    return 2;
  }
  if (!exe.warning.empty()) fmt::print(stderr, "{}\n", exe.warning);

  std::string error;
  std::optional<std::string> preload = locate_preload(&error);
  if (!preload) {
    fmt::print(stderr, "{}\n", error);
    return 2;
  }
  const std::string log_path = absolute_log_path(options.flags.log_path);
  set_environment(options, *preload, log_path);
  // A host whose debug registers never fire is said before the program starts;
  // the preload's own self-test then keeps quiet about it (it still runs, and the
  // program runs either way).
  if (options.flags.enable && options.flags.mode != "value-change" && probe_perf_support().problem.empty() &&
      run_trap_test(/*from_another_thread=*/false).outcome == TrapProbeOutcome::silent) {
    fmt::print(stderr, "{}\n", silent_breakpoints_notice(options.flags.mode == "auto"));
    setenv("RACETRAP_SELF_TEST_NOTICE_SHOWN", "1", 1);
  }
  if (options.flags.verbosity >= 1)
    fmt::print(stderr, "racetrap: preloading {}, reports at {}.<pid>\n", *preload, log_path);

  const std::string findings = create_findings_file();
  if (!findings.empty()) setenv("RACETRAP_RUN_FINDINGS", findings.c_str(), 1);
  std::fflush(stderr);
  const ReportSnapshot before = snapshot_reports(log_path);
  install_forwarding();
  pid_t pid = start_program(options);
  if (pid < 0) {
    if (!findings.empty()) unlink(findings.c_str());
    return 127;
  }
  int status = wait_for(pid);
  g_child = 0;
  // A report that went to stderr (asked for, or the fallback when its directory
  // is not writable) leaves no file to find: the findings file says it was made.
  bool reported = findings_noted(findings);
  if (!findings.empty()) unlink(findings.c_str());
  const int reported_status = static_cast<int>(options.flags.exitcode);

  if (log_path == "stderr") return reported ? reported_status : status;  // the report already went to stderr
  std::vector<ReportFile> files = find_reports(log_path, pid, before);
  if (render_leftovers(options, log_path, &files)) files = find_reports(log_path, pid, before);
  for (const ReportFile& file : files) {
    if (file.kind == ReportFileKind::kRaw) continue;  // could not be rendered: said so already
    reported = true;
    if (file.kind != ReportFileKind::kText) {
      fmt::print(stderr, "racetrap: --- {} ---\n", file.path);
      continue;
    }
    fmt::print(stderr, "racetrap: --- {} ---\n", file.path);
    std::fflush(stderr);
    if (!copy_to_stderr(file.path)) fmt::print(stderr, "racetrap: cannot read {}\n", file.path);
  }
  return reported ? reported_status : status;
}

}  // namespace racetrap
