// flags.cc — parsing and describing the tunables of flags.inc.
#include "flags.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
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

std::string value_text(const Flags& flags, const FlagInfo& info) {
  void* p = field_of(const_cast<Flags&>(flags), info);
  switch (info.kind) {
    case FlagKind::Int: return std::to_string(*static_cast<int64_t*>(p));
    case FlagKind::Bool: return *static_cast<bool*>(p) ? "1" : "0";
    case FlagKind::String: return *static_cast<std::string*>(p);
  }
  return {};
}

// The words a String flag accepts ("a|b|c"), or nullptr when any text goes.
const char* choices_of(const FlagInfo& info) {
#define RACETRAP_FLAG(kind, member, env, def, lo, hi, help)
#define RACETRAP_FLAG_CHOICES(member, words) \
  if (std::strcmp(info.field, #member) == 0) return words;
#include "flags.inc"
  return nullptr;
}

bool is_choice(const char* words, const char* text) {
  const size_t len = std::strlen(text);
  for (const char* p = words; *p != '\0';) {
    const char* end = std::strchr(p, '|');
    const size_t n = end ? static_cast<size_t>(end - p) : std::strlen(p);
    if (n == len && std::strncmp(p, text, n) == 0) return true;
    if (end == nullptr) break;
    p = end + 1;
  }
  return false;
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
      if (v < info.min || v > info.max)
        return fmt::format("is outside {}..{}", info.min, info.max);
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
      if (const char* words = choices_of(info); words != nullptr && !is_choice(words, text))
        return fmt::format("is not one of {}", words);
      *static_cast<std::string*>(p) = text;
      return {};
  }
  return "has an unknown kind";
}

// The value as it can be shown inside one line: control bytes become \xNN
// (a value with a newline must not split the warning), long values are cut.
static std::string printable(const char* text) {
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
      warn(fmt::format("racetrap: {}='{}' {}; using the default {}", info.env_name, printable(text),
                       problem, info.default_text));
  }
  return flags;
}

std::string flags_markdown() {
  std::string out = "| variable | `racetrap run` option | default | meaning |\n|---|---|---|---|\n";
  for (const FlagInfo& f : flag_table()) {
    std::string range = f.kind == FlagKind::Int ? fmt::format(" ({}..{})", f.min, f.max) : "";
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
