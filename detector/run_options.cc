// run_options.cc — parses `racetrap run [options] [--] cmd args...`.
#include "run_options.h"

#include <fmt/core.h>
#include <stdlib.h>

#include <cstring>

namespace racetrap {
namespace {

const FlagInfo* find_option(const std::string& name) {
  for (const FlagInfo& info : flag_table())
    if (info.option_name() == name) return &info;
  return nullptr;
}

}  // namespace

std::string parse_run_options(int argc, char** argv, RunOptions* out) {
  // The environment first: options given on the command line win over it.
  out->flags = parse_flags([](const char* name) { return getenv(name); },
                           [out](const std::string& line) { out->warnings.push_back(line); });
  for (const FlagInfo& info : flag_table()) {
    const char* text = getenv(info.env_name);
    Flags scratch;
    if (text != nullptr && !set_flag(scratch, info, text).empty())
      out->exports[info.env_name] = info.default_text;
  }

  int i = 0;
  for (; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") {
      ++i;
      break;
    }
    if (arg == "-h" || arg == "--help") {
      out->help = true;
      return {};
    }
    if (arg.rfind("--", 0) != 0) break;  // the command starts here
    size_t eq = arg.find('=');
    std::string name = arg.substr(0, eq);
    const FlagInfo* info = find_option(name);
    if (info == nullptr)
      return fmt::format("racetrap: unknown option '{}' (see racetrap --help)", name);
    std::string value;
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
    } else if (info->kind == FlagKind::Bool) {
      // A bare --report-atomics; a yes/no option never takes the next argument, so
      // `racetrap run --enable true` runs `true`.
      value = "1";
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return fmt::format("racetrap: {} needs a value", name);
    }
    // A bad value is handled as a bad environment value is: one line naming the
    // option and the default used, and the program runs.
    std::string problem = set_flag(out->flags, *info, value.c_str());
    if (!problem.empty()) {
      out->warnings.push_back(fmt::format("racetrap: {}='{}' {}; using the default {}", name,
                                          printable_value(value.c_str()), problem, info->default_text));
      reset_flag(out->flags, *info);
      out->exports[info->env_name] = info->default_text;
      continue;
    }
    out->exports[info->env_name] = value;
  }
  for (; i < argc; ++i) out->command.push_back(argv[i]);
  if (out->command.empty() && !out->help)
    return "racetrap: run: no command given (usage: racetrap run [options] [--] cmd args...)";
  return {};
}

}  // namespace racetrap
