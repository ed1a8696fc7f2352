// main.cc — the `racetrap` command: dispatches to one subcommand.
#include <fmt/core.h>

#include <cstring>

#include "commands.h"

#ifndef RACETRAP_VERSION
#define RACETRAP_VERSION "unknown"
#endif

int main(int argc, char** argv) {
  if (argc < 2) {
    racetrap::print_usage(false);
    return 0;
  }
  const char* sub = argv[1];
  int sub_argc = argc - 2;
  char** sub_argv = argv + 2;
  if (std::strcmp(sub, "run") == 0) return racetrap::run_command(sub_argc, sub_argv);
  if (std::strcmp(sub, "report") == 0) return racetrap::report_command(sub_argc, sub_argv);
  if (std::strcmp(sub, "suppress") == 0) return racetrap::suppress_command(sub_argc, sub_argv);
  if (std::strcmp(sub, "help") == 0) return racetrap::help_command(sub_argc, sub_argv);
  if (std::strcmp(sub, "check") == 0) return racetrap::check_command(sub_argc, sub_argv);
  if (std::strcmp(sub, "flags") == 0) return racetrap::flags_command(sub_argc, sub_argv);
  if (std::strcmp(sub, "--help") == 0 ||
      std::strcmp(sub, "-h") == 0) {
    racetrap::print_usage(false);
    return 0;
  }
  if (std::strcmp(sub, "--version") == 0 || std::strcmp(sub, "version") == 0) {
    fmt::print("racetrap {}\n", RACETRAP_VERSION);
    return 0;
  }
  fmt::print(stderr, "racetrap: unknown command '{}' (see racetrap --help)\n", sub);
  return 2;
}
