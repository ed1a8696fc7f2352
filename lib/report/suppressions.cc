// suppressions.cc — parsing and matching TSan-style suppressions (see suppressions.h).
#include "suppressions.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>

#include "report_policy.h"

namespace racetrap {
namespace {

const char* const kKnownTypes[] = {"race", "race_top", "thread", "called_from_lib",
                                   "mutex", "deadlock", "signal"};

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// A line without its trailing comment: `#` after a space or tab starts one, as in
// the README's example (`race:MyQueue::push   # why`). A `#` inside a pattern
// (no whitespace before it) stays part of the pattern.
std::string without_trailing_comment(const std::string& line) {
  for (size_t i = 1; i < line.size(); ++i)
    if (line[i] == '#' && (line[i - 1] == ' ' || line[i - 1] == '\t')) return line.substr(0, i);
  return line;
}

// Why a pattern can never match anything racetrap compares it with, or "". `^`
// anchors only at the start and `$` only at the end; anywhere else they are
// literal characters, which no function name, source path or lock name holds.
std::string never_matches(const std::string& pattern) {
  size_t caret = pattern.find('^', 1);
  if (caret != std::string::npos) return "'^' anchors only at the start of a pattern";
  size_t dollar = pattern.find('$');
  if (dollar != std::string::npos && dollar + 1 != pattern.size()) return "'$' anchors only at the end of a pattern";
  if (pattern.find_first_of("\t") != std::string::npos) return "a pattern holds no tab";
  return {};
}

std::string basename_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Does `pattern` match a frame (function with/without parameters, file, module)?
bool frame_matches(const std::string& pattern, const SourceFrame& f) {
  if (!f.function.empty() &&
      (template_match(pattern, f.function) || template_match(pattern, function_base_name(f.function))))
    return true;
  if (!f.file.empty() && template_match(pattern, f.file)) return true;
  return !f.module.empty() && template_match(pattern, f.module);
}

bool any_frame(const std::string& pattern, const std::vector<SourceFrame>& stack, bool top_only) {
  for (const SourceFrame& f : stack) {
    if (frame_matches(pattern, f)) return true;
    // race_top: frame #0 is the access itself, with its inlined expansion; stop at
    // the first physical frame.
    if (top_only && !f.inlined) break;
  }
  return false;
}

// Matches `called_from_lib:` against the module of an access's own frame: the
// pattern is a library name or path (TSan compares the basename).
bool module_matches(const std::string& pattern, const ReportAccess& a) {
  if (a.stack.empty() || a.stack[0].module.empty()) return false;
  const std::string& module = a.stack[0].module;
  return template_match(pattern, module) || template_match(pattern, basename_of(module));
}

// Lock-order inversions (deadlock:) and pthread misuse (mutex:): a frame of any
// stack of the report, or the name of a lock involved.
bool lock_report_matches(const std::string& p, const RaceReport& race) {
  for (const ReportLockEdge& e : race.cycle) {
    if (any_frame(p, e.acquire.stack, false) || any_frame(p, e.held_at, false)) return true;
    if (!e.held_symbol.empty() && template_match(p, e.held_symbol)) return true;
  }
  if (race.cycle.empty()) {
    if (any_frame(p, race.current.stack, false)) return true;
    if (race.has_previous && any_frame(p, race.previous.stack, false)) return true;
  }
  return !race.location.symbol.empty() && template_match(p, race.location.symbol);
}

bool rule_matches(const SuppressionRule& rule, const RaceReport& race) {
  const std::string& p = rule.pattern;
  // TSan's types: deadlock: for lock-order inversions, mutex: for mutex misuse;
  // race rules apply to data races only; called_from_lib: to every kind.
  if (rule.type == "called_from_lib") {
    return module_matches(p, race.current) || (race.has_previous && module_matches(p, race.previous));
  }
  if (race.kind == kLockOrderInversionKind) return rule.type == "deadlock" && lock_report_matches(p, race);
  if (race.kind != "data-race") return rule.type == "mutex" && lock_report_matches(p, race);
  if (rule.type == "race") {
    return any_frame(p, race.current.stack, false) || any_frame(p, race.previous.stack, false) ||
           (!race.location.symbol.empty() && template_match(p, race.location.symbol));
  }
  if (rule.type == "race_top") {
    return any_frame(p, race.current.stack, true) || any_frame(p, race.previous.stack, true);
  }
  if (rule.type == "thread") {
    for (const ReportThread& t : race.threads) {
      if (!t.name.empty() && template_match(p, t.name)) return true;
      if (any_frame(p, t.creation, false)) return true;
    }
    return false;
  }
  return false;  // mutex:, deadlock:, signal: — not for data races
}

// The first frame with a function name, for a suggested suppression.
const SourceFrame* named_frame(const ReportAccess& a) {
  for (const SourceFrame& f : a.stack)
    if (!f.function.empty()) return &f;
  return nullptr;
}

}  // namespace

bool template_match(const std::string& pattern, const std::string& text) {
  // TSan's TemplateMatch: `^` anchors at the start, `$` at the end, `*` is any
  // run; without a leading `^` the first piece may start anywhere.
  std::string templ = pattern;
  bool start_anchor = !templ.empty() && templ[0] == '^';
  if (start_anchor) templ.erase(0, 1);
  bool end_anchor = !templ.empty() && templ.back() == '$';
  if (end_anchor) templ.pop_back();
  if (templ.empty()) return !start_anchor || !end_anchor || text.empty();
  std::vector<std::string> pieces;
  std::string piece;
  for (char c : templ) {
    if (c == '*') {
      pieces.push_back(piece);
      piece.clear();
    } else {
      piece += c;
    }
  }
  pieces.push_back(piece);
  // pieces.size() >= 1; pieces between stars float, the first is anchored at the
  // start when ^ was given, the last at the end when $ was given.
  size_t pos = 0;
  for (size_t i = 0; i < pieces.size(); ++i) {
    const std::string& p = pieces[i];
    bool first = i == 0, last = i + 1 == pieces.size();
    if (first && start_anchor) {
      if (text.compare(0, p.size(), p) != 0) return false;
      pos = p.size();
      if (last && end_anchor) return pos == text.size();
      continue;
    }
    if (last && end_anchor) {
      if (text.size() < pos + p.size()) return false;
      return text.compare(text.size() - p.size(), p.size(), p) == 0;
    }
    size_t at = text.find(p, pos);
    if (at == std::string::npos) return false;
    pos = at + p.size();
  }
  return true;
}

Suppressions parse_suppressions(const std::string& text, const std::string& file_name) {
  Suppressions out;
  out.file = file_name;
  std::istringstream in(text);
  std::string raw;
  int line = 0;
  while (std::getline(in, raw)) {
    ++line;
    std::string s = trim(raw);
    if (s.empty() || s[0] == '#') continue;
    s = trim(without_trailing_comment(s));
    size_t colon = s.find(':');
    if (colon == std::string::npos) {
      out.errors.push_back(fmt::format("{}:{}: '{}' is not TYPE:PATTERN (e.g. race:my_function)",
                                       file_name, line, s));
      continue;
    }
    std::string type = trim(s.substr(0, colon));
    std::string pattern = trim(s.substr(colon + 1));
    bool known = false;
    for (const char* k : kKnownTypes) known = known || type == k;
    if (!known) {
      out.errors.push_back(fmt::format(
          "{}:{}: unknown suppression type '{}' (use race, race_top, thread, called_from_lib, "
          "mutex, deadlock or signal)",
          file_name, line, type));
      continue;
    }
    if (pattern.empty()) {
      out.errors.push_back(fmt::format("{}:{}: empty pattern after '{}:'", file_name, line, type));
      continue;
    }
    if (std::string why = never_matches(pattern); !why.empty())
      out.errors.push_back(fmt::format("{}:{}: warning: '{}:{}' can never match ({}); the rule is kept", file_name,
                                       line, type, pattern, why));
    out.rules.push_back(SuppressionRule{type, pattern, line});
  }
  return out;
}

Suppressions load_suppressions(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    Suppressions out;
    out.file = path;
    out.errors.push_back(fmt::format("{}: cannot read the suppressions file: {}", path, std::strerror(errno)));
    return out;
  }
  std::stringstream text;
  text << in.rdbuf();
  return parse_suppressions(text.str(), path);
}

const SuppressionRule* find_suppression(const Suppressions& rules, const RaceReport& race) {
  for (const SuppressionRule& rule : rules.rules)
    if (rule_matches(rule, race)) return &rule;
  return nullptr;
}

namespace {

// Whether the access itself (its innermost, possibly inlined, frame) is a
// std::atomic operation (report_policy.h).
bool is_std_atomic_access(const ReportAccess& a) {
  return !a.stack.empty() && is_std_atomic_function(a.stack[0].function);
}

// Whether the access is inside a standard-library synchronization object
// (report_policy.h) or is a std::atomic operation.
bool is_std_sync_object_access(const ReportAccess& a) {
  return !a.stack.empty() &&
         (is_std_sync_object_function(a.stack[0].function) || is_std_atomic_function(a.stack[0].function));
}

}  // namespace

const char* const kStdAtomicPair = "built-in: both accesses are std::atomic operations";
const char* const kStdSyncObjectPair =
    "built-in: both accesses are inside a standard-library synchronization object (std::barrier, std::latch, "
    "std::counting_semaphore)";
const char* const kStdAtomicSample = "built-in: the value-change sample is a std::atomic operation";

void apply_suppressions(const Suppressions& rules, ReportModel* model) {
  std::vector<RaceReport> kept;
  for (RaceReport& race : model->races) {
    const bool atomic_pair =
        race.kind == "data-race" && is_std_atomic_access(race.current) && is_std_atomic_access(race.previous);
    // A value change under a sampled std::atomic load or store is how atomics are
    // meant to work: the sampled access alone decides (the writer is often unknown).
    const bool atomic_sample =
        race.kind == "data-race" && race.value_changed && is_std_atomic_access(race.previous);
    const bool sync_object_pair = race.kind == "data-race" && !atomic_pair &&
                                  is_std_sync_object_access(race.current) && is_std_sync_object_access(race.previous);
    if (atomic_pair) {
      race.suppressed_by = kStdAtomicPair;
      model->suppressed.push_back(std::move(race));
    } else if (sync_object_pair) {
      race.suppressed_by = kStdSyncObjectPair;
      model->suppressed.push_back(std::move(race));
    } else if (atomic_sample) {
      race.suppressed_by = kStdAtomicSample;
      model->suppressed.push_back(std::move(race));
    } else if (const SuppressionRule* rule = find_suppression(rules, race)) {
      race.suppressed_by = rule->text();
      model->suppressed.push_back(std::move(race));
    } else {
      kept.push_back(std::move(race));
    }
  }
  model->races = std::move(kept);
}

std::string suggest_suppressions(const ReportModel& model) {
  std::string out;
  std::set<std::string> seen;
  for (const RaceReport& race : model.races) {
    const SourceFrame* f = named_frame(race.current);
    if (f == nullptr) f = named_frame(race.previous);
    std::string line;
    const std::string type = race.kind == "data-race"               ? "race"
                             : race.kind == kLockOrderInversionKind ? "deadlock"
                                                                    : "mutex";
    if (type != "race") {
      if (f == nullptr) continue;
      line = type + ":" + function_base_name(f->function);
      if (!seen.insert(line).second) continue;
      out += fmt::format("# {} {} (fingerprint {})\n", kind_title(race.kind), access_summary(race.current),
                         race.fingerprint);
      out += line + "\n";
      continue;
    }
    if (f != nullptr) {
      line = "race:" + function_base_name(f->function);
    } else if (!race.location.symbol.empty()) {
      line = "race:" + race.location.symbol;
    } else if (!race.current.stack.empty() && !race.current.stack[0].module.empty()) {
      line = "called_from_lib:" + basename_of(race.current.stack[0].module);
    } else {
      continue;  // nothing symbolic to name it by
    }
    if (!seen.insert(line).second) continue;
    out += fmt::format("# data race {} (fingerprint {})\n", access_summary(race.current), race.fingerprint);
    out += line + "\n";
  }
  return out;
}

}  // namespace racetrap
