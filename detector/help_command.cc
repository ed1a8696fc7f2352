// help_command.cc — usage text and `racetrap flags [--markdown]`, both generated
// from the one table of tunables (lib/flags.inc).
#include <fmt/core.h>

#include <cstring>

#include "commands.h"
#include "flags.h"

namespace racetrap {

void print_usage(bool to_stderr) {
  std::FILE* out = to_stderr ? stderr : stdout;
  fmt::print(out,
             "racetrap: find data races in unmodified Linux x86-64 programs.\n"
             "\n"
             "usage:\n"
             "  racetrap run [options] [--] cmd args...\n"
             "      Run cmd with libracetrap.so preloaded, print any race report it\n"
             "      produced, and exit with the race exit code (default 66) when races\n"
             "      were reported, else with the program's own status.\n"
             "  racetrap check\n"
             "      Show whether this kernel and machine support racetrap (hardware\n"
             "      breakpoints, sigtrap, MODIFY_ATTRIBUTES) and what re-arming costs.\n"
             "  racetrap flags [--markdown]\n"
             "      List the tunables (RACETRAP_* environment variables).\n"
             "  racetrap --help | --version\n"
             "\n"
             "options of `racetrap run`: each sets its RACETRAP_* variable for the program.\n"
             "Write '--name=VALUE' or '--name VALUE'; a yes/no option is '--name' (yes) or\n"
             "'--name=VALUE' and never takes the next argument.\n"
             "{}"
             "\n"
             "environment of `racetrap` itself:\n"
             "  RACETRAP_PRELOAD=PATH  the libracetrap.so to preload (default: found next to\n"
             "      racetrap in the build tree or the installed layout)\n",
             flags_help());
}

int flags_command(int argc, char** argv) {
  bool markdown = false;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--markdown") == 0) {
      markdown = true;
    } else {
      fmt::print(stderr, "racetrap: flags: unknown argument '{}' (use --markdown or nothing)\n",
                 argv[i]);
      return 2;
    }
  }
  fmt::print("{}", markdown ? flags_markdown() : flags_help());
  return 0;
}

}  // namespace racetrap
