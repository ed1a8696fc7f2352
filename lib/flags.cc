// flags.cc — parsing and describing the tunables of flags.inc.
#include "flags.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <string_view>
#include <strings.h>

namespace racetrap {
namespace {

// The field of `flags` that `info` describes, as an untyped pointer.
void* field_of(Flags& flags, const FlagInfo& info) {
#define RACETRAP_FLAG(kind, member, env, def, lo, hi, help) \
  if (std::strcmp(info.field, #member) == 0) return &flags.member;
#include "flags.inc"
  return nullptr;
}

// An Int flag's default, allowed whatever its range (a marker outside it, such as
// RACETRAP_SAMPLE_US's 0, "the mode's period"), and its range as shown:
// "20..10000000", with ", or 0" when the default lies outside it.
int64_t int_default(const FlagInfo& info) {
  Flags defaults;
  return *static_cast<const int64_t*>(field_of(defaults, info));
}
std::string int_range(const FlagInfo& info) {
  const int64_t def = int_default(info);
  return def < info.min || def > info.max ? fmt::format("{}..{}, or {}", info.min, info.max, def)
                                          : fmt::format("{}..{}", info.min, info.max);
}

std::string value_text(const Flags& flags, const FlagInfo& info) {
  void* p = field_of(const_cast<Flags&>(flags), info);
  switch (info.kind) {
    case FlagKind::Int: return std::to_string(*static_cast<int64_t*>(p));
    case FlagKind::Bool: return *static_cast<bool*>(p) ? "1" : "0";
    case FlagKind::String: return *static_cast<std::string*>(p);
  }
  return {};
}

// The words a String flag accepts ("a|b|c") and whether it takes a comma list
// of them, from flags.inc; words is nullptr when any text goes.
struct Choices {
  const char* words = nullptr;
  bool list = false;
};

Choices choices_of(const FlagInfo& info) {
#define RACETRAP_FLAG(kind, member, env, def, lo, hi, help)
#define RACETRAP_FLAG_CHOICES(member, words, list) \
  if (std::strcmp(info.field, #member) == 0) return {words, list};
#include "flags.inc"
  return {};
}

bool is_choice(const char* words, std::string_view text) {
  for (const char* p = words; *p != '\0';) {
    const char* end = std::strchr(p, '|');
    const size_t n = end ? static_cast<size_t>(end - p) : std::strlen(p);
    if (std::string_view(p, n) == text) return true;
    if (end == nullptr) break;
    p = end + 1;
  }
  return false;
}

// Why `text` is not a value of a flag with these choices, or "" when it is.
std::string choice_problem(const Choices& choices, std::string_view text) {
  if (!choices.list) {
    if (is_choice(choices.words, text)) return {};
    return fmt::format("is not one of {}", choices.words);
  }
  std::string allowed = choices.words;  // "a|b|c" shown as "a, b, c"
  for (size_t bar; (bar = allowed.find('|')) != std::string::npos;) allowed.replace(bar, 1, ", ");
  size_t words = 0;
  for (size_t start = 0; start <= text.size();) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view word = text.substr(start, comma - start);
    start = comma + 1;
    while (!word.empty() && word.front() == ' ') word.remove_prefix(1);
    while (!word.empty() && word.back() == ' ') word.remove_suffix(1);
    if (word.empty()) continue;
    if (!is_choice(choices.words, word))
      return fmt::format("has an unknown word '{}' (use any of {}, comma-separated)", word, allowed);
    ++words;
  }
  if (words == 0) return fmt::format("names none of {}", allowed);
  return {};
}

}  // namespace

std::string FlagInfo::option_name() const {
  std::string name = "--";
  for (const char* c = field; *c; ++c) name += (*c == '_') ? '-' : *c;
  return name;
}

const std::vector<FlagInfo>& flag_table() {
  static const std::vector<FlagInfo> table = [] {
    std::vector<FlagInfo> rows = {
#define RACETRAP_FLAG(kind, member, env, def, lo, hi, help) \
  FlagInfo{FlagKind::kind, #member, env, "", lo, hi, help},
#include "flags.inc"
    };
    const Flags defaults;
    for (FlagInfo& row : rows) row.default_text = value_text(defaults, row);
    return rows;
  }();
  return table;
}

std::string set_flag(Flags& flags, const FlagInfo& info, const char* text) {
  void* p = field_of(flags, info);
  switch (info.kind) {
    case FlagKind::Int: {
      errno = 0;
      char* end = nullptr;
      long long v = std::strtoll(text, &end, 10);
      if (*text == '\0' || end == text || *end != '\0' || errno == ERANGE)
        return "is not a whole number";
      if ((v < info.min || v > info.max) && v != int_default(info)) return "is outside " + int_range(info);
      *static_cast<int64_t*>(p) = v;
      return {};
    }
    case FlagKind::Bool: {
      static const char* yes[] = {"1", "true", "yes", "on"};
      static const char* no[] = {"0", "false", "no", "off"};
      for (const char* y : yes)
        if (strcasecmp(text, y) == 0) return *static_cast<bool*>(p) = true, std::string{};
      for (const char* n : no)
        if (strcasecmp(text, n) == 0) return *static_cast<bool*>(p) = false, std::string{};
      return "is not a boolean (use 0/1, true/false, yes/no, on/off)";
    }
    case FlagKind::String:
      if (*text == '\0') return "is empty";
      if (const Choices choices = choices_of(info); choices.words != nullptr) {
        if (std::string problem = choice_problem(choices, text); !problem.empty()) return problem;
      }
      *static_cast<std::string*>(p) = text;
      return {};
  }
  return "has an unknown kind";
}

void reset_flag(Flags& flags, const FlagInfo& info) {
  const Flags defaults;
  void* to = field_of(flags, info);
  const void* from = field_of(const_cast<Flags&>(defaults), info);
  switch (info.kind) {
    case FlagKind::Int: *static_cast<int64_t*>(to) = *static_cast<const int64_t*>(from); break;
    case FlagKind::Bool: *static_cast<bool*>(to) = *static_cast<const bool*>(from); break;
    case FlagKind::String: *static_cast<std::string*>(to) = *static_cast<const std::string*>(from); break;
  }
}

// The value as it can be shown inside one line: control bytes become \xNN
// (a value with a newline must not split the warning), long values are cut.
std::string printable_value(const char* text) {
  std::string out;
  for (const char* p = text; *p != '\0' && out.size() < 200; ++p) {
    unsigned char c = static_cast<unsigned char>(*p);
    if (c < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", c);
    else out += static_cast<char>(c);
  }
  if (std::strlen(text) > 200) out += "...";
  return out;
}

Flags parse_flags(const std::function<const char*(const char*)>& lookup,
                  const std::function<void(const std::string&)>& warn) {
  Flags flags;
  for (const FlagInfo& info : flag_table()) {
    const char* text = lookup(info.env_name);
    if (text == nullptr) continue;
    std::string problem = set_flag(flags, info, text);
    if (!problem.empty())
      warn(fmt::format("racetrap: {}='{}' {}; using the default {}", info.env_name, printable_value(text),
                       problem, info.default_text));
  }
  return flags;
}

std::string flags_markdown() {
  std::string out = "| variable | `racetrap run` option | default | meaning |\n|---|---|---|---|\n";
  for (const FlagInfo& f : flag_table()) {
    std::string range = f.kind == FlagKind::Int ? " (" + int_range(f) + ")" : "";
    out += fmt::format("| `{}` | `{}` | `{}`{} | {} |\n", f.env_name, f.option_name(),
                       f.default_text, range, f.help);
  }
  return out;
}

std::string flags_help() {
  std::string out;
  for (const FlagInfo& f : flag_table()) {
    out += fmt::format("  {}=VALUE  ({}, default {})\n      {}\n", f.option_name(), f.env_name,
                       f.default_text, f.help);
  }
  return out;
}

// Used by tests and `racetrap run --verbose` to show effective settings.
std::string describe_flags(const Flags& flags) {
  std::string out;
  for (const FlagInfo& f : flag_table()) out += fmt::format("{}={}\n", f.env_name, value_text(flags, f));
  return out;
}

}  // namespace racetrap
