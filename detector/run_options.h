// run_options.h — the command line of `racetrap run`, generated from flag_table().
#pragma once

#include <map>
#include <string>
#include <vector>

#include "flags.h"

namespace racetrap {

struct RunOptions {
  Flags flags;                        // environment, then the options on top
  // RACETRAP_* variables to set for the program: each option given, and the
  // default for each bad environment value (already warned about here).
  std::map<std::string, std::string> exports;
  std::vector<std::string> warnings;  // bad RACETRAP_* environment values (default kept)
  std::vector<char*> command;         // cmd args..., not null-terminated
  bool help = false;
};

// Parses `[options] [--] cmd args...`. Returns an empty string on success, else one
// line ready to print ("racetrap: --x=v: is not a whole number").
std::string parse_run_options(int argc, char** argv, RunOptions* out);

}  // namespace racetrap
