// text_report.cc — renders a RawLog in the sanitizer shape (see text_report.h).
//
// One block per distinct race (unordered pair of access pcs), in order of first
// appearance:
//   ==================
//   WARNING: racetrap: data race (pid=N)
//     Write of size 8 at 0x... by thread T2 (tid=...):
//       #0 function file:line:column (module+0xoff)
//     Previous read of size 8 at 0x... by main thread (tid=...):
//       #0 ...
//     Thread T2 (tid=...) created by main thread at:
//       #0 ...
//     Seen 3 times.                      (only when seen more than once)
//
//   SUMMARY: racetrap: data race file:line:column in function
//   ==================
// and, after all of them, "racetrap: N distinct data races (M reports)".
#include "text_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <unordered_map>
#include <utility>
#include <vector>

#include "memory_access.h"

namespace racetrap {
namespace {

constexpr const char* kRule = "==================\n";

const char* kind_name(uint8_t kind) {
  switch (kind) {
    case static_cast<uint8_t>(AccessKind::kRead):
    case static_cast<uint8_t>(AccessKind::kWrite):
    case static_cast<uint8_t>(AccessKind::kReadWrite):
      return access_kind_name(static_cast<AccessKind>(kind));
    default:
      return "access";  // a corrupt record: say something neutral
  }
}

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

class Renderer {
 public:
  Renderer(const RawLog& log, Symbolizer& symbolizer) : log_(log), symbolizer_(symbolizer) {
    for (const ThreadRecord& t : log.threads) threads_[t.uid] = &t;  // the last record wins
  }

  // All source frames of a stack: frames[0] exact, the rest return addresses.
  std::vector<SourceFrame> frames_of(const StackRecord& stack) {
    std::vector<SourceFrame> out;
    uint32_t n = std::min<uint32_t>(stack.frame_count, kMaxFrames);
    for (uint32_t i = 0; i < n; ++i) {
      std::vector<SourceFrame> frames = symbolizer_.symbolize(stack.frames[i], i > 0);
      out.insert(out.end(), frames.begin(), frames.end());
    }
    return out;
  }

  void render_stack(const StackRecord& stack, std::string* out) {
    std::vector<SourceFrame> frames = frames_of(stack);
    if (frames.empty()) {
      *out += "    <empty stack>\n";
      return;
    }
    for (size_t i = 0; i < frames.size(); ++i) *out += frame_line(i, frames[i]);
  }

  const ThreadRecord* thread(uint32_t uid) const {
    auto it = threads_.find(uid);
    return it == threads_.end() ? nullptr : it->second;
  }

  // "main thread (tid=N)" / "thread T2 'name' (tid=N)"; `tid` 0 leaves it out.
  std::string thread_name(uint32_t uid, uint32_t tid) const {
    const ThreadRecord* t = thread(uid);
    std::string s = uid == 0 ? std::string("main thread") : fmt::format("thread T{}", uid);
    if (uid != 0 && t != nullptr && t->name[0] != '\0') {
      s += fmt::format(" '{}'", std::string(t->name, strnlen(t->name, sizeof t->name)));
    }
    if (tid != 0) s += fmt::format(" (tid={})", tid);
    return s;
  }

  void render_access(const AccessRecord& a, bool previous, std::string* out) {
    std::string kind = kind_name(a.kind);
    std::string what = previous ? "Previous " + kind : capitalised(kind);
    *out += fmt::format("  {} of size {}{} at {:#x} by {}:\n", what, a.size,
                        a.atomic ? " (atomic)" : "", a.address,
                        thread_name(a.thread_uid, a.os_tid));
    render_stack(a.stack, out);
  }

  void render_creation(uint32_t uid, uint32_t tid_hint, std::string* out) {
    const ThreadRecord* t = thread(uid);
    if (t == nullptr) {
      *out += fmt::format("  Thread T{}{} was created at an unknown place (not recorded).\n",
                          uid, tid_hint != 0 ? fmt::format(" (tid={})", tid_hint) : "");
      return;
    }
    std::string self = fmt::format("Thread T{}", uid);
    if (t->name[0] != '\0') {
      self += fmt::format(" '{}'", std::string(t->name, strnlen(t->name, sizeof t->name)));
    }
    self += fmt::format(" (tid={})", t->os_tid != 0 ? t->os_tid : tid_hint);
    *out += fmt::format("  {} created by {} at:\n", self, thread_name(t->parent_uid, 0));
    // A creation stack's frames[0] is an exact pc too (the pthread_create call site).
    render_stack(t->creation, out);
  }

  std::string summary(const AccessRecord& a) {
    std::vector<SourceFrame> frames = frames_of(a.stack);
    for (const SourceFrame& f : frames) {
      if (f.file.empty()) continue;
      return f.function.empty() ? location(f) : location(f) + " in " + f.function;
    }
    for (const SourceFrame& f : frames) {
      if (f.function.empty()) continue;
      return f.module.empty() ? f.function : module_part(f) + " in " + f.function;
    }
    for (const SourceFrame& f : frames) {
      if (!f.module.empty()) return module_part(f);
    }
    return fmt::format("{:#x}", a.pc);
  }

  void render_race(const RaceRecord& race, size_t seen, std::string* out) {
    *out += kRule;
    *out += fmt::format("WARNING: racetrap: data race (pid={})\n", log_.pid);
    render_access(race.current, false, out);
    render_access(race.previous, true, out);
    uint32_t uids[2] = {race.current.thread_uid, race.previous.thread_uid};
    uint32_t tids[2] = {race.current.os_tid, race.previous.os_tid};
    for (int i = 0; i < 2; ++i) {
      if (uids[i] == 0) continue;  // the main thread was not created by anyone
      if (i == 1 && uids[1] == uids[0]) continue;
      render_creation(uids[i], tids[i], out);
    }
    if (seen > 1) *out += fmt::format("  Seen {} times.\n", seen);
    *out += "\n";
    *out += fmt::format("SUMMARY: racetrap: data race {}\n", summary(race.current));
    *out += kRule;
  }

 private:
  const RawLog& log_;
  Symbolizer& symbolizer_;
  std::unordered_map<uint32_t, const ThreadRecord*> threads_;
};

}  // namespace

TextReport render_text_report(const RawLog& log, Symbolizer& symbolizer) {
  TextReport report;
  if (log.races.empty()) return report;

  // Distinct races by the unordered pair of pcs, in order of first appearance.
  std::map<std::pair<uint64_t, uint64_t>, size_t> index;
  std::vector<std::pair<const RaceRecord*, size_t>> distinct;  // first record, count
  for (const RaceRecord& race : log.races) {
    uint64_t a = race.current.pc;
    uint64_t b = race.previous.pc;
    auto key = std::make_pair(std::min(a, b), std::max(a, b));
    auto [it, inserted] = index.emplace(key, distinct.size());
    if (inserted) {
      distinct.emplace_back(&race, 1);
    } else {
      ++distinct[it->second].second;
    }
  }

  Renderer renderer(log, symbolizer);
  for (const auto& [race, seen] : distinct) renderer.render_race(*race, seen, &report.text);
  report.race_count = distinct.size();
  report.text += fmt::format("racetrap: {} distinct data races ({} reports)\n", distinct.size(),
                             log.races.size());
  return report;
}

}  // namespace racetrap
