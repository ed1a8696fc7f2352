// fuzz_flags.cc — libFuzzer target: every tunable's text parser (set_flag) and the
// whole environment parser (parse_flags) on arbitrary bytes. A bad value must
// come back as one line, never a crash, and leave the flag in its range.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "flags.h"

using namespace racetrap;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto& table = flag_table();
  const FlagInfo& info = table[data[0] % table.size()];
  std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string cstr = text.c_str();  // what getenv could return: up to the first NUL
  Flags flags;
  std::string problem = set_flag(flags, info, cstr.c_str());
  if (!problem.empty() && problem.find('\n') != std::string::npos) std::abort();  // one line
  // The environment parser sees the same text for every variable.
  int warnings = 0;
  Flags parsed = parse_flags([&](const char*) { return cstr.c_str(); },
                             [&](const std::string& line) {
                               if (line.find('\n') != std::string::npos) std::abort();
                               ++warnings;
                             });
  for (const FlagInfo& f : table) {
    (void)f;
  }
  if (parsed.sample_us != 0 && (parsed.sample_us < 20 || parsed.sample_us > 10000000)) std::abort();
  if (parsed.watchpoints < 1 || parsed.watchpoints > 4) std::abort();
  if (parsed.verbosity < 0 || parsed.verbosity > 3) std::abort();
  if (parsed.exitcode < 0 || parsed.exitcode > 255) std::abort();
  return 0;
}
