// suppressions.h — ThreadSanitizer-compatible suppression files
// (RACETRAP_SUPPRESSIONS, `racetrap report --suppressions`), so an existing TSan
// file works unchanged:
//   # comment
//   race:pattern            a frame of either access stack, or the global's name
//   race_top:pattern        only the top frame (#0) of either access stack
//   thread:pattern          a thread involved: its name or a frame of its creation stack
//   called_from_lib:lib     an access made from code in that library (module name)
//   deadlock:pattern        a lock-order inversion: a frame of any edge's stack, or a lock's global name
//   mutex:pattern           a pthread misuse report: a frame of its stacks, or the mutex's global name
//   signal:                 accepted (a TSan report racetrap does not make)
// race:, race_top: and thread: apply to data races only; called_from_lib: to every kind.
// A pattern matches a function name (demangled; with or without its parameter
// list), a source file path or a module path. Without anchors it matches anywhere
// in the string (substring); `*` matches any run of characters; a leading `^`
// anchors at the start, a trailing `$` at the end — TSan's TemplateMatch rules.
// Contract: parse_suppressions is a pure function of the text; each bad line gives
// one error "file:line: what" and the other lines are still used.
// Not signal-safe.
#pragma once

#include <string>
#include <vector>

#include "race_report_model.h"

namespace racetrap {

struct SuppressionRule {
  std::string type;     // "race", "race_top", "thread", "called_from_lib", ...
  std::string pattern;
  int line = 0;         // 1-based line in the file
  std::string text() const { return type + ":" + pattern; }
};

struct Suppressions {
  std::string file;                  // the name used in errors
  std::vector<SuppressionRule> rules;
  std::vector<std::string> errors;   // "file:line: what", one per bad line or rule that never matches
};

Suppressions parse_suppressions(const std::string& text, const std::string& file_name);

// Reads and parses a file; an unreadable file is one error ("file: cannot read: ...").
Suppressions load_suppressions(const std::string& path);

// TSan's template match (see above).
bool template_match(const std::string& pattern, const std::string& text);

// The first rule that suppresses `race`, or nullptr.
const SuppressionRule* find_suppression(const Suppressions& rules, const RaceReport& race);

// Moves every suppressed race of model.races to model.suppressed, with
// suppressed_by set to the rule's text. Built in, whatever the rules: a data race
// whose two accesses are both std::atomic operations (seen through inlined frames
// in the debug info) is not a data race; suppressed_by is kStdAtomicPair.
extern const char* const kStdAtomicPair;
// Nor is one whose two accesses are inside a libstdc++ synchronization object built
// on atomics (std::barrier, std::latch, std::counting_semaphore: its members are
// ordered by its own atomics, plain moves in the binary); kStdSyncObjectPair.
extern const char* const kStdSyncObjectPair;
// A value-change race (RaceReport::value_changed) whose sampled access is a
// std::atomic operation is not a data race either.
extern const char* const kStdAtomicSample;
void apply_suppressions(const Suppressions& rules, ReportModel* model);

// Suppression lines for every race of the model ("# summary" then "race:function"),
// ready to append to a suppressions file; duplicate lines are left out.
std::string suggest_suppressions(const ReportModel& model);

}  // namespace racetrap
