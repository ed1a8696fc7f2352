// help_command.cc — usage text, the man page (`racetrap help --man`, racetrap.1)
// and `racetrap flags [--markdown]`, all generated from one table of commands
// below and the one table of tunables (lib/flags.inc).
#include <fmt/core.h>

#include <cstring>
#include <string>

#include "commands.h"
#include "flags.h"

#ifndef RACETRAP_VERSION
#define RACETRAP_VERSION "unknown"
#endif

namespace racetrap {
namespace {

struct CommandDoc {
  const char* synopsis;
  const char* text;  // sentences; wrapped for --help, a paragraph in the man page
};

const CommandDoc kCommands[] = {
    {"racetrap run [options] [--] cmd args...",
     "Run cmd with libracetrap.so preloaded, print every report it and its child processes "
     "produced (rendering the raw stream of a program that crashed, was killed or called _exit), "
     "and exit with the race exit code (default 66) when races were reported, else with the "
     "program's own status (128+N when signal N killed it)."},
    {"racetrap report [--format=text|json|sarif] [--suppressions=FILE] [--source-root=DIR] "
     "[--debug-dir=DIR]... [-o BASE] FILE...",
     "Render raw streams (<log_path>.<pid>.raw, also one left by a killed program) and JSON "
     "reports of one or many runs as one report on stdout (or BASE, BASE.json, BASE.sarif with "
     "-o): the same race seen in several runs is merged, and races are ranked by how many runs "
     "saw them. --debug-dir (repeatable) adds a directory searched for separate debug files "
     "before /usr/lib/debug: DIR/.build-id/xx/rest.debug by build-id."},
    {"racetrap suppress REPORT...",
     "Print a suppression line (ThreadSanitizer syntax) for every race in the given reports "
     "(raw, JSON or text), ready for RACETRAP_SUPPRESSIONS."},
    {"racetrap check",
     "Show whether this kernel and machine support racetrap (hardware breakpoints, sigtrap, "
     "MODIFY_ATTRIBUTES, and whether a real breakpoint trap arrives: some hypervisors accept "
     "breakpoints and never fire them) and what re-arming costs. Exits 1 when racetrap cannot "
     "find data races here."},
    {"racetrap flags [--markdown]", "List the tunables (RACETRAP_* environment variables)."},
    {"racetrap help [--man] | --help | --version", "This text; --man prints the racetrap(1) man page."},
};

// Wraps `text` at 78 columns with `indent` spaces before each line.
std::string wrap(const std::string& text, int indent) {
  std::string out, line;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t space = text.find(' ', pos);
    if (space == std::string::npos) space = text.size();
    std::string word = text.substr(pos, space - pos);
    pos = space + 1;
    if (!line.empty() && indent + line.size() + 1 + word.size() > 78) {
      out += std::string(indent, ' ') + line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) out += std::string(indent, ' ') + line + "\n";
  return out;
}

// roff-escapes text: backslashes, leading dots/quotes, hyphens in options.
std::string roff(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') out += "\\e";
    else if (c == '-') out += "\\-";
    else out += c;
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out = "\\&" + out;
  return out;
}

std::string man_page() {
  std::string out;
  out += fmt::format(".TH RACETRAP 1 \"\" \"racetrap {}\" \"User Commands\"\n", RACETRAP_VERSION);
  out += ".SH NAME\nracetrap \\- find data races in unmodified Linux x86\\-64 programs\n";
  out += ".SH SYNOPSIS\n";
  for (const CommandDoc& c : kCommands) out += ".B " + roff(c.synopsis) + "\n.br\n";
  out += ".SH DESCRIPTION\n";
  out += roff("racetrap samples each thread on a CPU-time clock, points other threads' hardware "
              "debug registers at the sampled address, and reports the conflicting access that "
              "traps if no synchronization orders the two. Nothing is recompiled.") + "\n";
  out += ".SH COMMANDS\n";
  for (const CommandDoc& c : kCommands) out += ".TP\n.B " + roff(c.synopsis) + "\n" + roff(c.text) + "\n";
  out += ".SH OPTIONS\n";
  out += roff("Each option of racetrap run sets the environment variable of the same name for the "
              "program (libracetrap.so reads them at start-up). Write --name=VALUE or --name VALUE; "
              "a yes/no option is --name (yes) or --name=VALUE.") + "\n";
  for (const FlagInfo& f : flag_table()) {
    std::string range = f.kind == FlagKind::Int ? fmt::format(", {}..{}", f.min, f.max) : "";
    out += fmt::format(".TP\n.BR {} \" \" {}\n{} (default {}{}).\n", roff(f.option_name()), f.env_name,
                       roff(f.help), roff(f.default_text.empty() ? "none" : f.default_text), range);
  }
  out += ".SH ENVIRONMENT\n.TP\n.B RACETRAP_PRELOAD\n";
  out += roff("The libracetrap.so to preload (default: found next to racetrap in the build tree or "
              "in <libdir>/racetrap/ once installed).") + "\n";
  out += ".SH FILES\n";
  out += ".TP\n.I <log_path>.<pid>\nThe text report.\n";
  out += ".TP\n.I <log_path>.<pid>.json\nThe JSON report (RACETRAP_FORMAT=json).\n";
  out += ".TP\n.I <log_path>.<pid>.sarif\nThe SARIF 2.1.0 report (RACETRAP_FORMAT=sarif).\n";
  out += ".TP\n.I <log_path>.<pid>.raw\n" +
         roff("The raw stream written while the program runs; left behind only when it did not exit "
              "normally. racetrap report renders it.") + "\n";
  out += ".SH EXIT STATUS\n" +
         roff("racetrap run exits with the race exit code (--exitcode, default 66) when races were "
              "reported, else with the program's status; 2 for usage errors.") + "\n";
  return out;
}

}  // namespace

void print_usage(bool to_stderr) {
  std::FILE* out = to_stderr ? stderr : stdout;
  std::string commands;
  for (const CommandDoc& c : kCommands) commands += "  " + std::string(c.synopsis) + "\n" + wrap(c.text, 6);
  fmt::print(out,
             "racetrap: find data races in unmodified Linux x86-64 programs.\n"
             "\n"
             "usage:\n"
             "{}"
             "\n"
             "options of `racetrap run`: each sets its RACETRAP_* variable for the program.\n"
             "Write '--name=VALUE' or '--name VALUE'; a yes/no option is '--name' (yes) or\n"
             "'--name=VALUE' and never takes the next argument.\n"
             "{}"
             "\n"
             "environment of `racetrap` itself:\n"
             "  RACETRAP_PRELOAD=PATH  the libracetrap.so to preload (default: found next to\n"
             "      racetrap in the build tree or the installed layout)\n",
             commands, flags_help());
}

int help_command(int argc, char** argv) {
  if (argc == 1 && std::strcmp(argv[0], "--man") == 0) {
    fmt::print("{}", man_page());
    return 0;
  }
  if (argc > 0) {
    fmt::print(stderr, "racetrap: help: unknown argument '{}' (use --man or nothing)\n", argv[0]);
    return 2;
  }
  print_usage(false);
  return 0;
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
