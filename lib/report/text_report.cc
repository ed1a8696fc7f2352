// text_report.cc — renders a ReportModel in the sanitizer shape (see text_report.h).
#include "text_report.h"

#include <fmt/format.h>

#include <map>

namespace racetrap {
namespace {

constexpr const char* kRule = "==================\n";

std::string capitalised(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

std::string basename_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// "file:line:column", dropping the parts that are unknown.
std::string location(const SourceFrame& f) {
  std::string s = f.file;
  if (f.line > 0) {
    s += fmt::format(":{}", f.line);
    if (f.column > 0) s += fmt::format(":{}", f.column);
  }
  return s;
}

// "(module+0xoff)" or "(<unknown module>)".
std::string module_part(const SourceFrame& f) {
  if (f.module.empty()) return "(<unknown module>)";
  return fmt::format("({}+{:#x})", basename_of(f.module), f.module_offset);
}

std::string frame_line(size_t index, const SourceFrame& f) {
  std::string function = f.function;
  if (function.empty()) function = f.module.empty() ? fmt::format("{:#x}", f.pc) : "<unknown>";
  if (!f.file.empty()) {
    return fmt::format("    #{} {} {} {}\n", index, function, location(f), module_part(f));
  }
  return fmt::format("    #{} {} {}\n", index, function, module_part(f));
}

void render_stack(const std::vector<SourceFrame>& frames, std::string* out) {
  if (frames.empty()) {
    *out += "    <empty stack>\n";
    return;
  }
  for (size_t i = 0; i < frames.size(); ++i) *out += frame_line(i, frames[i]);
}

void render_access(const ReportAccess& a, bool previous, std::string* out) {
  std::string what = previous ? "Previous " + a.kind : capitalised(a.kind);
  *out += fmt::format("  {} of size {}{} at {:#x} by {}:\n", what, a.size, a.atomic ? " (atomic)" : "",
                      a.address, thread_label(a.thread_uid, a.thread_name, a.os_tid));
  render_stack(a.stack, out);
}

void render_location(const RaceReport& race, std::string* out) {
  const MemoryLocation& l = race.location;
  if (l.kind == "global") {
    std::string module = l.module.empty() ? "" : fmt::format(" ({})", basename_of(l.module));
    if (l.symbol.empty()) {
      *out += fmt::format("  Location is global data{}.\n", module);
    } else {
      std::string size = l.size > 0 ? fmt::format(" of size {}", l.size) : "";
      *out += fmt::format("  Location is global '{}'{} at {:#x}{}\n", l.symbol, size, l.start, module);
    }
  } else if (l.kind == "heap") {
    *out += "  Location is heap memory.\n";
  } else if (l.kind == "stack" || l.kind == "tls") {
    // ThreadSanitizer's words: "stack of main thread", "TLS of thread T2".
    const char* what = l.kind == "stack" ? "stack" : "TLS";
    if (!l.has_thread) {
      *out += fmt::format("  Location is {} of a thread.\n", what);
    } else if (l.thread_uid == 0) {
      *out += fmt::format("  Location is {} of main thread.\n", what);
    } else {
      *out += fmt::format("  Location is {} of thread T{}.\n", what, l.thread_uid);
    }
  } else if (l.kind == "heap-or-stack") {
    *out += "  Location is heap or thread stack memory (anonymous mapping).\n";
  }
}

void render_creation(const ReportThread& t, std::string* out) {
  if (!t.known) {
    *out += fmt::format("  Thread T{}{} was created at an unknown place (not recorded).\n", t.uid,
                        t.os_tid != 0 ? fmt::format(" (tid={})", t.os_tid) : "");
    return;
  }
  std::string self = fmt::format("Thread T{}", t.uid);
  if (!t.name.empty()) self += fmt::format(" '{}'", t.name);
  self += fmt::format(" (tid={})", t.os_tid);
  *out += fmt::format("  {} created by {} at:\n", self, thread_label(t.parent_uid, t.parent_name, 0));
  render_stack(t.creation, out);
}

void render_seen(const RaceReport& race, std::string* out) {
  if (race.runs > 1) {
    *out += fmt::format("  Seen {} times in {} runs.\n", race.count, race.runs);
  } else if (race.count > 1) {
    *out += fmt::format("  Seen {} times.\n", race.count);
  }
}

// "M2 (0x... 'name')": locks are numbered per report in order of appearance.
class LockNames {
 public:
  std::string operator()(uint64_t lock, const std::string& symbol) {
    size_t i = 0;
    while (i < locks_.size() && locks_[i] != lock) ++i;
    if (i == locks_.size()) locks_.push_back(lock);
    return fmt::format("M{}", i + 1) + (symbol.empty() ? "" : fmt::format(" '{}'", symbol));
  }
  std::string with_address(uint64_t lock, const std::string& symbol) {
    return fmt::format("{} ({:#x})", (*this)(lock, symbol), lock);
  }

 private:
  std::vector<uint64_t> locks_;
};

// "    Locks held: M1 (mutex 0x... 'name', acquired at file.c:12:3 in f)", one lock a
// line, after an access's stack; "none" when it held none, nothing when unknown.
void render_held_locks(const ReportAccess& a, LockNames& name, std::string* out) {
  if (!a.locks_known) return;
  if (a.locks_total == 0) {
    *out += "    Locks held: none\n";
    return;
  }
  const std::string first = "    Locks held: ";
  for (size_t i = 0; i < a.locks.size(); ++i) {
    const ReportHeldLock& l = a.locks[i];
    std::string what = l.mode == "mutex" ? fmt::format("mutex {:#x}", l.address)
                                         : fmt::format("rwlock {:#x} {}-locked", l.address, l.mode);
    if (!l.symbol.empty()) what += fmt::format(" '{}'", l.symbol);
    if (!l.acquired_at.empty()) what += ", acquired at " + frame_summary(l.acquired_at[0]);
    *out += (i == 0 ? first : std::string(first.size(), ' ')) + fmt::format("{} ({})\n", name(l.address, ""), what);
  }
  if (a.locks_total > a.locks.size()) {
    const uint32_t more = a.locks_total - static_cast<uint32_t>(a.locks.size());
    *out += (a.locks.empty() ? first : std::string(first.size(), ' ')) +
            fmt::format("{} more lock{} not recorded\n", more, more == 1 ? "" : "s");
  }
}

void render_cycle(const RaceReport& race, std::string* out) {
  *out += kRule;
  *out += fmt::format("WARNING: racetrap: {} (pid={})\n", kind_title(race.kind), race.pid);
  LockNames name;
  std::string cycle = "  Cycle in lock order graph: ";
  for (const ReportLockEdge& e : race.cycle) cycle += name.with_address(e.held, e.held_symbol) + " => ";
  if (!race.cycle.empty()) cycle += name(race.cycle[0].held, "");
  if (race.cycle_truncated) cycle += " (longer cycle, shortened)";
  *out += cycle + "\n";
  for (const ReportLockEdge& e : race.cycle) {
    *out += "\n";
    const ReportAccess& a = e.acquire;
    *out += fmt::format("  Mutex {} acquired here while holding mutex {} in {}:\n", name(e.acquired, ""),
                        name(e.held, ""), thread_label(a.thread_uid, a.thread_name, a.os_tid));
    render_stack(a.stack, out);
    if (!e.held_at.empty()) {
      *out += fmt::format("  Mutex {} previously acquired by the same thread at:\n", name(e.held, ""));
      render_stack(e.held_at, out);
    }
  }
  *out += "\n";
  for (const ReportThread& t : race.threads) render_creation(t, out);
  render_seen(race, out);
  *out += "\n";
  *out += fmt::format("SUMMARY: racetrap: {} {}\n", kind_title(race.kind), access_summary(race.current));
  *out += kRule;
}

void render_misuse(const RaceReport& race, std::string* out) {
  *out += kRule;
  *out += fmt::format("WARNING: racetrap: {} (pid={})\n", kind_title(race.kind), race.pid);
  LockNames name;
  name(race.current.address, "");  // M1
  *out += "  " + misuse_description(race) + ":\n";
  render_stack(race.current.stack, out);
  if (race.has_previous) {
    *out += fmt::format("  Mutex {} previously acquired by the same thread at:\n", name(race.current.address, ""));
    render_stack(race.previous.stack, out);
  }
  for (const ReportThread& t : race.threads) render_creation(t, out);
  render_seen(race, out);
  *out += "\n";
  *out += fmt::format("SUMMARY: racetrap: {} {}\n", kind_title(race.kind), access_summary(race.current));
  *out += kRule;
}

void render_race(const RaceReport& race, std::string* out) {
  if (!race.cycle.empty() || race.kind == kLockOrderInversionKind) return render_cycle(race, out);
  if (race.kind != "data-race") return render_misuse(race, out);
  *out += kRule;
  *out += fmt::format("WARNING: racetrap: {} (pid={})\n", race_title(race), race.pid);
  LockNames locks;
  if (race.writer_known) {
    render_access(race.current, false, out);
    render_held_locks(race.current, locks, out);
  } else {
    const ReportAccess& w = race.current;
    *out += fmt::format("  {} of size {} at {:#x} by {}:\n", capitalised(w.kind), w.size, w.address,
                        thread_label(w.thread_uid, w.thread_name, w.os_tid));
    *out += "    <not identified: no recently running thread was seen writing these bytes again while the previous "
            "access waited>\n";
  }
  render_access(race.previous, true, out);
  render_held_locks(race.previous, locks, out);
  render_location(race, out);
  if (race.value_changed) {
    *out += fmt::format("  Found by value-change sampling: the value changed from {:#x} to {:#x} ({} byte{}) while "
                        "the previous access waited, so the two accesses were concurrent.\n",
                        race.value_before, race.value_after, race.value_size, race.value_size == 1 ? "" : "s");
  } else if (race.has_values) {
    *out += fmt::format("  Value before the {}: {:#x}, after: {:#x} ({} byte{})\n", race.current.kind,
                        race.value_before, race.value_after, race.value_size,
                        race.value_size == 1 ? "" : "s");
  }
  for (const ReportThread& t : race.threads) render_creation(t, out);
  render_seen(race, out);
  *out += "\n";
  *out += fmt::format("SUMMARY: racetrap: {} {}\n", race_title(race), access_summary(summary_access(race)));
  *out += kRule;
}

}  // namespace

std::string stats_line(const ReportModel& model) {
  if (model.stats.empty()) return {};
  std::string out = "racetrap: stats:";
  for (const auto& [name, value] : model.stats) out += fmt::format(" {}={}", name, value);
  return out;
}

std::string suppressions_listing(const ReportModel& model) {
  if (model.suppressed.empty()) return {};
  std::map<std::string, uint64_t> per_rule;
  for (const RaceReport& r : model.suppressed) per_rule[r.suppressed_by] += r.count;
  std::string pid = model.runs.size() == 1 ? fmt::format(" (pid={})", model.runs[0].pid) : "";
  std::string out = fmt::format("racetrap: matched {} suppression{}{}:\n", per_rule.size(),
                                per_rule.size() == 1 ? "" : "s", pid);
  for (const auto& [rule, count] : per_rule) out += fmt::format("  {} {}\n", count, rule);
  return out;
}

std::string render_text(const ReportModel& model) {
  std::string out;
  if (model.races.empty()) return out;
  for (const RaceReport& race : model.races) render_race(race, &out);
  // One count line per family present: data races, lock-order inversions, misuse.
  std::vector<RaceReport> races, inversions, misuse;
  for (const RaceReport& r : model.races) {
    if (r.kind == "data-race") races.push_back(r);
    else if (r.kind == kLockOrderInversionKind) inversions.push_back(r);
    else misuse.push_back(r);
  }
  if (!races.empty()) {
    out += fmt::format("racetrap: {} distinct data races ({} reports)\n", races.size(), total_count(races));
  }
  if (!inversions.empty()) {
    out += fmt::format("racetrap: {} lock-order inversions (potential deadlocks)\n", inversions.size());
  }
  if (!misuse.empty()) {
    out += fmt::format("racetrap: {} pthread misuse reports ({} calls)\n", misuse.size(), total_count(misuse));
  }
  if (!model.suppressed.empty()) {
    out += fmt::format("racetrap: {} suppressed data races ({} reports)\n", model.suppressed.size(),
                       total_count(model.suppressed));
  }
  if (std::string stats = stats_line(model); !stats.empty()) out += stats + "\n";
  return out;
}

TextReport render_text_report(const RawLog& log, Symbolizer& symbolizer) {
  ReportModel model = build_report_model(log, symbolizer);
  return TextReport{render_text(model), model.races.size()};
}

}  // namespace racetrap
