// commands.h — the subcommands of the `racetrap` command, each in its own file.
// Every entry point takes the arguments after the subcommand name and returns the
// process exit status.
#pragma once

namespace racetrap {

int run_command(int argc, char** argv);       // run_command.cc: racetrap run [options] [--] cmd args...
int report_command(int argc, char** argv);    // report_command.cc: racetrap report [options] FILE...
int suppress_command(int argc, char** argv);  // suppress_command.cc: racetrap suppress REPORT...
int check_command(int argc, char** argv);     // check_command.cc: racetrap check
int flags_command(int argc, char** argv);     // help_command.cc: racetrap flags [--markdown]
int help_command(int argc, char** argv);      // help_command.cc: racetrap help [--man]
void print_usage(bool to_stderr);             // help_command.cc: racetrap --help

}  // namespace racetrap
