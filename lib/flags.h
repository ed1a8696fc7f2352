// flags.h — racetrap's tunables, parsed from RACETRAP_* environment variables.
// Contract: the table in flags.inc is the single declaration of every tunable.
// Parsing never fails: a bad value is reported as one line naming the variable and
// the default kept. Not signal-safe (parse at start-up, read anywhere afterwards).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace racetrap {

struct Flags {
#define RACETRAP_FLAG_Int int64_t
#define RACETRAP_FLAG_Bool bool
#define RACETRAP_FLAG_String std::string
#define RACETRAP_FLAG(kind, field, env, def, lo, hi, help) RACETRAP_FLAG_##kind field = def;
#include "flags.inc"
#undef RACETRAP_FLAG_Int
#undef RACETRAP_FLAG_Bool
#undef RACETRAP_FLAG_String
};

enum class FlagKind { Int, Bool, String };

// One row of flags.inc, for help texts, docs and the `racetrap run` options.
struct FlagInfo {
  FlagKind kind;
  const char* field;        // e.g. "sample_us"
  const char* env_name;     // e.g. "RACETRAP_SAMPLE_US"
  std::string default_text; // e.g. "2000"
  int64_t min, max;         // Int only
  const char* help;
  std::string option_name() const;  // e.g. "--sample-us"
};

const std::vector<FlagInfo>& flag_table();

// Reads each variable through `lookup` (getenv by default). Every problem is
// passed to `warn` as one line: "racetrap: RACETRAP_X='v' is not ...; using default D".
Flags parse_flags(const std::function<const char*(const char*)>& lookup,
                  const std::function<void(const std::string&)>& warn);

// Sets one flag from text (used by the parser and `racetrap run --option`).
// Returns an empty string on success, else the problem (without the variable name).
std::string set_flag(Flags& flags, const FlagInfo& info, const char* text);

// Puts one flag back to its default.
void reset_flag(Flags& flags, const FlagInfo& info);

// A value as it can be shown inside one line: control bytes become \xNN, long
// values are cut.
std::string printable_value(const char* text);

// The tunables as a Markdown table (README section) and as --help lines.
std::string flags_markdown();
std::string flags_help();
std::string describe_flags(const Flags& flags);  // "ENV=value" lines

}  // namespace racetrap
