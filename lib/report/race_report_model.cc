// race_report_model.cc — builds the report model from a raw stream (dedup by
// unordered stack pair, symbolize, locate memory, count) and merges models of many
// runs by fingerprint (see race_report_model.h).
#include "race_report_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <initializer_list>
#include <map>
#include <set>
#include <unordered_map>

#include "held_locks.h"
#include "lock_order_graph.h"
#include "memory_access.h"
#include "memory_map.h"

namespace racetrap {
namespace {

std::string basename_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

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

// The recorded pthread name, with control bytes made visible as '?'.
std::string thread_name_of(const ThreadRecord* t) {
  if (t == nullptr) return {};
  std::string name(t->name, strnlen(t->name, sizeof t->name));
  for (char& c : name)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return name;
}

uint64_t fnv1a(const std::string& text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// The symbolic identity of one frame: no addresses.
std::string frame_key(const SourceFrame& f) {
  if (!f.function.empty()) {
    std::string key = f.function;
    if (!f.file.empty()) key += fmt::format("@{}:{}", basename_of(f.file), f.line);
    else if (!f.module.empty()) key += "@" + basename_of(f.module);
    return key;
  }
  if (!f.module.empty()) return fmt::format("{}+{:#x}", basename_of(f.module), f.module_offset);
  return "?";
}

std::string stack_key(const std::vector<SourceFrame>& stack) {
  std::string key;
  for (const SourceFrame& f : stack) key += frame_key(f) + "\n";
  return key;
}

class ModelBuilder {
 public:
  ModelBuilder(const RawLog& log, Symbolizer& symbolizer)
      : log_(log), symbolizer_(symbolizer), map_(parse_memory_map(log.maps)) {
    for (const ThreadRecord& t : log.threads) {
      threads_[t.uid] = &t;  // the last record wins
      if (t.stack_end > t.stack_begin) ranges_recorded_ = true;
    }
  }

  std::vector<SourceFrame> frames_of(const StackRecord& stack) {
    std::vector<SourceFrame> out;
    uint32_t n = std::min<uint32_t>(stack.frame_count, kMaxFrames);
    for (uint32_t i = 0; i < n; ++i) {
      std::vector<SourceFrame> frames = symbolizer_.symbolize(stack.frames[i], i > 0);
      out.insert(out.end(), frames.begin(), frames.end());
    }
    return out;
  }

  const ThreadRecord* thread(uint32_t uid) const {
    auto it = threads_.find(uid);
    return it == threads_.end() ? nullptr : it->second;
  }

  ReportAccess access(const AccessRecord& a) {
    ReportAccess out;
    out.kind = kind_name(a.kind);
    out.atomic = a.atomic != 0;
    out.size = a.size;
    out.address = a.address;
    out.thread_uid = a.thread_uid;
    out.os_tid = a.os_tid;
    out.thread_name = a.thread_uid == 0 ? "" : thread_name_of(thread(a.thread_uid));
    out.stack = frames_of(a.stack);
    return out;
  }

  ReportThread creation(uint32_t uid, uint32_t tid_hint) {
    ReportThread out;
    out.uid = uid;
    out.os_tid = tid_hint;
    const ThreadRecord* t = thread(uid);
    if (t == nullptr) return out;
    out.known = true;
    out.name = thread_name_of(t);
    if (t->os_tid != 0) out.os_tid = t->os_tid;
    out.parent_uid = t->parent_uid;
    out.parent_name = t->parent_uid == 0 ? "" : thread_name_of(thread(t->parent_uid));
    // A creation stack's frames[0] is an exact pc too (the pthread_create call site).
    out.creation = frames_of(t->creation);
    return out;
  }

  // The thread whose recorded TLS (tls) or stack (!tls) range holds `address`, or
  // nullptr. glibc hands a finished thread's stack to the next thread, so several
  // records may hold it: one of the threads that made the accesses (`a`, `b`) is
  // the one alive at the race; else the latest created (highest uid).
  const ThreadRecord* owner_of(uint64_t address, bool tls, uint32_t a, uint32_t b) const {
    const ThreadRecord* best = nullptr;
    for (const ThreadRecord& t : log_.threads) {
      uint64_t begin = tls ? t.tls_begin : t.stack_begin;
      uint64_t end = tls ? t.tls_end : t.stack_end;
      if (address < begin || address >= end) continue;
      bool accessor = t.uid == a || t.uid == b;
      bool best_accessor = best != nullptr && (best->uid == a || best->uid == b);
      if (best == nullptr || (accessor && !best_accessor) || (accessor == best_accessor && t.uid >= best->uid))
        best = &t;
    }
    return best;
  }

  // An anonymous mapping with an inaccessible one right below it: the layout of
  // a thread stack above its guard page (malloc's arenas have theirs above).
  bool after_guard(const Mapping* m) const {
    if (m == map_.mappings.data()) return false;
    const Mapping& before = *(m - 1);
    return before.end == m->begin && before.path.empty() && !before.readable && !before.writable &&
           !before.executable;
  }

  // Where `address` is; `a` and `b` are the threads that accessed it.
  MemoryLocation locate(uint64_t address, uint32_t a, uint32_t b) {
    MemoryLocation loc;
    const Mapping* m = map_.find(address);
    bool found = false;
    DataSymbol sym = symbolizer_.describe_data(address, &found);
    if (found) {
      loc.kind = "global";
      loc.symbol = sym.name;
      loc.start = sym.start;
      loc.size = sym.size;
      loc.module = sym.module;
      return loc;
    }
    // TLS first: glibc's thread stack range includes the thread's TLS block.
    for (bool tls : {true, false}) {
      if (const ThreadRecord* t = owner_of(address, tls, a, b)) {
        loc.kind = tls ? "tls" : "stack";
        loc.has_thread = true;
        loc.thread_uid = t->uid;
        return loc;
      }
    }
    if (m == nullptr) return loc;
    if (m->path == "[heap]") {
      loc.kind = "heap";
    } else if (m->path == "[stack]") {
      loc.kind = "stack";  // the main thread's (a thread's own mmap-ed stack is anonymous)
      loc.has_thread = true;
      loc.thread_uid = 0;
    } else if (m->path.empty()) {
      // Anonymous: mmap-ed heap blocks and the stacks of threads with no record
      // here. An anonymous mapping right after a module's file mapping is its
      // .bss tail.
      const Mapping* before = m != map_.mappings.data() ? m - 1 : nullptr;
      if (before != nullptr && before->end == m->begin && !before->path.empty() &&
          before->path[0] == '/') {
        loc.kind = "global";
        loc.module = before->path;
      } else if (ranges_recorded_ && !after_guard(m)) {
        loc.kind = "heap";
      } else {
        loc.kind = "heap-or-stack";
      }
    } else if (m->path[0] == '/') {
      loc.kind = "global";
      loc.module = m->path;
    }
    return loc;
  }

  // The held-lock snapshot of one access.
  void held_locks(const HeldLocksRecord& r, ReportAccess* out) {
    out->locks_known = (r.flags & kLocksKnown) != 0;
    if (!out->locks_known) return;
    for (const HeldLockRecord& l : r.locks) {
      if (l.address == 0) break;
      ReportHeldLock lock;
      lock.address = l.address;
      lock.mode = l.mode == static_cast<uint8_t>(HeldMode::kRead)    ? "read"
                  : l.mode == static_cast<uint8_t>(HeldMode::kWrite) ? "write"
                                                                     : "mutex";
      lock.symbol = data_symbol(l.address);
      lock.acquired_at = call_site(l.pc);
      out->locks.push_back(std::move(lock));
    }
    out->locks_total = std::max<uint32_t>(r.total, static_cast<uint32_t>(out->locks.size()));
  }

  RaceReport race(const RaceRecord& r) {
    RaceReport out;
    out.pid = log_.pid;
    out.current = access(r.current);
    out.previous = access(r.previous);
    held_locks(r.current_locks, &out.current);
    held_locks(r.previous_locks, &out.previous);
    out.location = locate(r.current.address, r.current.thread_uid, r.previous.thread_uid);
    out.value_changed = (r.flags & kRaceValueChanged) != 0;
    out.writer_known = !out.value_changed || (r.flags & kRaceWriterFound) != 0;
    if (writes_kind(r.current.kind) || out.value_changed) {
      out.has_values = true;
      out.value_size = std::clamp<uint32_t>(r.watch_size, 1, 8);
      uint64_t mask = out.value_size >= 8 ? ~0ull : (1ull << (8 * out.value_size)) - 1;
      out.value_before = r.value_at_sample & mask;
      out.value_after = r.value_at_trap & mask;
    }
    uint32_t uids[2] = {r.current.thread_uid, r.previous.thread_uid};
    uint32_t tids[2] = {r.current.os_tid, r.previous.os_tid};
    for (int i = 0; i < 2; ++i) {
      if (uids[i] == 0) continue;  // the main thread was not created by anyone
      if (uids[i] == kUnknownThreadUid) continue;  // a value change's writer not identified
      if (i == 1 && uids[1] == uids[0]) continue;
      out.threads.push_back(creation(uids[i], tids[i]));
    }
    out.fingerprint = race_fingerprint(out);
    return out;
  }

  // A lock event (acquisition, unlock, ...) by thread `uid`, as an access of size 0.
  ReportAccess lock_event(const char* kind, uint64_t lock, uint32_t uid, uint32_t tid, const StackRecord& stack) {
    ReportAccess out;
    out.kind = kind;
    out.address = lock;
    out.thread_uid = uid;
    out.os_tid = tid;
    out.thread_name = uid == 0 ? "" : thread_name_of(thread(uid));
    out.stack = frames_of(stack);
    return out;
  }

  // The name of the global at `address`, or "".
  std::string data_symbol(uint64_t address) {
    bool found = false;
    DataSymbol sym = symbolizer_.describe_data(address, &found);
    if (!found || sym.name.empty()) return {};
    return address == sym.start ? sym.name : fmt::format("{}+{:#x}", sym.name, address - sym.start);
  }

  // The call site `pc` alone (an exact pc), or nothing.
  std::vector<SourceFrame> call_site(uint64_t pc) {
    if (pc == 0) return {};
    StackRecord one{};
    one.frame_count = 1;
    one.frames[0] = pc;
    return frames_of(one);
  }

  void add_creation(RaceReport* out, uint32_t uid, uint32_t tid) {
    if (uid == 0) return;
    for (const ReportThread& t : out->threads)
      if (t.uid == uid) return;
    out->threads.push_back(creation(uid, tid));
  }

  RaceReport cycle(const LockCycleRecord& r) {
    RaceReport out;
    out.kind = kLockOrderInversionKind;
    out.pid = log_.pid;
    out.has_previous = false;
    out.cycle_truncated = (r.flags & kCycleTruncated) != 0;
    const uint32_t n = std::min<uint32_t>(r.edge_count, kMaxCycleEdges);
    for (uint32_t i = 0; i < n; ++i) {
      const LockEdgeRecord& e = r.edges[i];
      ReportLockEdge edge;
      edge.held = e.held;
      edge.acquired = e.acquired;
      edge.acquire = lock_event("lock", e.acquired, e.thread_uid, e.os_tid, e.stack);
      edge.held_at = call_site(e.held_pc);
      edge.held_symbol = data_symbol(e.held);
      edge.acquired_symbol = data_symbol(e.acquired);
      out.cycle.push_back(std::move(edge));
      add_creation(&out, e.thread_uid, e.os_tid);
    }
    if (!out.cycle.empty()) out.current = out.cycle[0].acquire;
    out.location = locate(out.current.address, out.current.thread_uid, out.current.thread_uid);
    out.fingerprint = race_fingerprint(out);
    return out;
  }

  RaceReport misuse(const MisuseRecord& r) {
    RaceReport out;
    out.kind = misuse_kind_name(r.kind);
    out.pid = log_.pid;
    const MisuseKindInfo* info = misuse_kind_info(out.kind);
    const char* call = info != nullptr ? info->call : "lock";
    out.current = lock_event(call, r.mutex, r.thread_uid, r.os_tid, r.stack);
    out.owner_tid = r.owner_tid;
    out.object = misuse_object_name(r.object);
    out.has_result = (r.flags & kMisuseHasResult) != 0;
    out.result = out.has_result ? r.result : 0;
    out.with_mutex = r.with_mutex;
    out.other_mutex = r.other_mutex;
    out.lock_count = r.lock_count;
    out.has_previous = r.earlier_pc != 0;
    if (out.has_previous) {
      out.previous = out.current;
      out.previous.kind = "lock";
      out.previous.stack = call_site(r.earlier_pc);
    }
    out.location = locate(r.mutex, r.thread_uid, r.thread_uid);
    add_creation(&out, r.thread_uid, r.os_tid);
    out.fingerprint = race_fingerprint(out);
    return out;
  }

 private:
  static bool writes_kind(uint8_t kind) {
    return kind == static_cast<uint8_t>(AccessKind::kWrite) ||
           kind == static_cast<uint8_t>(AccessKind::kReadWrite);
  }

  const RawLog& log_;
  Symbolizer& symbolizer_;
  MemoryMap map_;
  std::unordered_map<uint32_t, const ThreadRecord*> threads_;
  bool ranges_recorded_ = false;  // some thread record has its stack range (a newer writer)
};

// The raw identity of a stack: its pcs.
std::vector<uint64_t> raw_stack(const AccessRecord& a) {
  uint32_t n = std::min<uint32_t>(a.stack.frame_count, kMaxFrames);
  std::vector<uint64_t> pcs = {a.pc};
  pcs.insert(pcs.end(), a.stack.frames, a.stack.frames + n);
  return pcs;
}

std::pair<uint64_t, uint64_t> pc_pair(uint64_t a, uint64_t b) { return a < b ? std::make_pair(a, b) : std::make_pair(b, a); }

// Merges `from` into the list with index `index` (fingerprint -> position).
void merge_into(std::vector<RaceReport>* list, std::map<std::string, size_t>* index,
                const RaceReport& from) {
  auto [it, inserted] = index->emplace(from.fingerprint, list->size());
  if (inserted) {
    list->push_back(from);
    return;
  }
  RaceReport& into = (*list)[it->second];
  into.count += from.count;
  into.runs += from.runs;
}

void rank(std::vector<RaceReport>* races) {
  std::stable_sort(races->begin(), races->end(), [](const RaceReport& a, const RaceReport& b) {
    if (a.runs != b.runs) return a.runs > b.runs;
    return a.count > b.count;
  });
}

}  // namespace

std::string race_fingerprint(const RaceReport& race) {
  if (!race.cycle.empty()) {
    // The set of edge acquisition stacks: the same cycle entered at another edge
    // has the same fingerprint.
    std::vector<std::string> keys;
    for (const ReportLockEdge& e : race.cycle) keys.push_back(stack_key(e.acquire.stack));
    std::sort(keys.begin(), keys.end());
    std::string text = race.kind + "\n";
    for (const std::string& k : keys) text += k + "--\n";
    return fmt::format("{:016x}", fnv1a(text));
  }
  std::string a = stack_key(race.current.stack);
  std::string b = stack_key(race.previous.stack);
  if (b < a) std::swap(a, b);
  return fmt::format("{:016x}", fnv1a(race.kind + "\n" + a + "--\n" + b));
}

ReportModel build_report_model(const RawLog& log, Symbolizer& symbolizer, const std::string& source) {
  ReportModel model;
  model.runs.push_back(RunInfo{log.pid, source, log.truncated});
  ModelBuilder builder(log, symbolizer);
  // Distinct races by the unordered pair of raw stacks, in order of first appearance.
  std::map<std::pair<std::vector<uint64_t>, std::vector<uint64_t>>, size_t> index;
  std::map<std::pair<uint64_t, uint64_t>, size_t> by_pcs;  // unordered PC pair -> its first race
  // Races the run withdrew (a first verdict the program's own synchronization
  // explained later; preload/signal/held_races.h): not reported.
  std::set<std::pair<uint64_t, uint64_t>> withdrawn;
  for (const RaceSeenRecord& w : log.race_withdrawn) withdrawn.insert(pc_pair(w.current_pc, w.previous_pc));
  for (const RaceRecord& record : log.races) {
    if (withdrawn.count(pc_pair(record.current.pc, record.previous.pc)) != 0) continue;
    std::vector<uint64_t> a = raw_stack(record.current);
    std::vector<uint64_t> b = raw_stack(record.previous);
    if (b < a) std::swap(a, b);
    auto [it, inserted] = index.emplace(std::make_pair(std::move(a), std::move(b)), model.races.size());
    if (inserted) {
      model.races.push_back(builder.race(record));
      model.races.back().count = 1;
      model.races.back().runs = 1;
    } else {
      ++model.races[it->second].count;
    }
    by_pcs.emplace(pc_pair(record.current.pc, record.previous.pc), it->second);
  }
  // Repeats of a recorded PC pair (not recorded again): the largest total written
  // is the latest.
  std::map<std::pair<uint64_t, uint64_t>, uint64_t> repeats;
  for (const RaceSeenRecord& seen : log.race_seen) {
    uint64_t& total = repeats[pc_pair(seen.current_pc, seen.previous_pc)];
    total = std::max(total, seen.repeats);
  }
  for (const auto& [pcs, total] : repeats) {
    auto it = by_pcs.find(pcs);
    if (it != by_pcs.end()) model.races[it->second].count += total;
  }
  // A value change whose writer was not identified, sampled at the same stack as
  // one whose writer was: the same race as far as can be told, counted there.
  std::vector<bool> folded(model.races.size(), false);
  for (size_t i = 0; i < model.races.size(); ++i) {
    const RaceReport& race = model.races[i];
    if (!race.value_changed || race.writer_known) continue;
    for (RaceReport& other : model.races) {
      if (other.value_changed && other.writer_known && other.previous.stack == race.previous.stack) {
        other.count += race.count;
        folded[i] = true;
        break;
      }
    }
  }
  std::vector<RaceReport> kept;
  for (size_t i = 0; i < model.races.size(); ++i)
    if (!folded[i]) kept.push_back(std::move(model.races[i]));
  model.races = std::move(kept);
  // Lock-order inversions: the writer reports each cycle once; a stream merged
  // from a fork or a replayed record is deduplicated again here.
  std::map<uint64_t, size_t> cycles;
  for (const LockCycleRecord& record : log.lock_cycles) {
    auto [it, inserted] = cycles.emplace(lock_cycle_identity(record), model.races.size());
    if (inserted) {
      model.races.push_back(builder.cycle(record));
      model.races.back().count = 1;
      model.races.back().runs = 1;
    } else {
      ++model.races[it->second].count;
    }
  }
  // Misuse: by kind and raw stack.
  std::map<std::pair<uint32_t, std::vector<uint64_t>>, size_t> misuses;
  for (const MisuseRecord& record : log.misuses) {
    uint32_t n = std::min<uint32_t>(record.stack.frame_count, kMaxFrames);
    std::vector<uint64_t> pcs(record.stack.frames, record.stack.frames + n);
    auto [it, inserted] = misuses.emplace(std::make_pair(record.kind, std::move(pcs)), model.races.size());
    if (inserted) {
      model.races.push_back(builder.misuse(record));
      model.races.back().count = 1;
      model.races.back().runs = 1;
    } else {
      ++model.races[it->second].count;
    }
  }
  return model;
}

ReportModel merge_report_models(const std::vector<ReportModel>& models) {
  ReportModel out;
  std::map<std::string, size_t> races, suppressed;
  std::map<std::string, size_t> stat_index;
  for (const ReportModel& m : models) {
    out.runs.insert(out.runs.end(), m.runs.begin(), m.runs.end());
    // Within one model a fingerprint may repeat (equal symbols, other pcs): one
    // run still counts once, so merge a model's own duplicates first.
    std::vector<RaceReport> own;
    std::map<std::string, size_t> own_index;
    for (const RaceReport& r : m.races) {
      auto [it, inserted] = own_index.emplace(r.fingerprint, own.size());
      if (inserted) own.push_back(r);
      else {
        own[it->second].count += r.count;
        own[it->second].runs = std::max(own[it->second].runs, r.runs);
      }
    }
    for (const RaceReport& r : own) merge_into(&out.races, &races, r);
    for (const RaceReport& r : m.suppressed) merge_into(&out.suppressed, &suppressed, r);
    for (const auto& [name, value] : m.stats) {
      auto [it, inserted] = stat_index.emplace(name, out.stats.size());
      if (inserted) out.stats.emplace_back(name, value);
      else out.stats[it->second].second += value;
    }
  }
  rank(&out.races);
  rank(&out.suppressed);
  return out;
}

std::string frame_summary(const SourceFrame& f) {
  std::string where;
  if (!f.file.empty()) {
    where = basename_of(f.file);
    if (f.line > 0) {
      where += fmt::format(":{}", f.line);
      if (f.column > 0) where += fmt::format(":{}", f.column);
    }
  } else if (!f.module.empty()) {
    where = fmt::format("({}+{:#x})", basename_of(f.module), f.module_offset);
  }
  if (where.empty()) return f.function.empty() ? fmt::format("{:#x}", f.pc) : f.function;
  return f.function.empty() ? where : where + " in " + f.function;
}

std::string access_summary(const ReportAccess& a) {
  auto location = [](const SourceFrame& f) {
    std::string s = f.file;
    if (f.line > 0) {
      s += fmt::format(":{}", f.line);
      if (f.column > 0) s += fmt::format(":{}", f.column);
    }
    return s;
  };
  auto module_part = [](const SourceFrame& f) {
    return fmt::format("({}+{:#x})", basename_of(f.module), f.module_offset);
  };
  // The access itself: the innermost frame that says anything (as sanitizers do; a
  // frame with a file further out would name a caller, e.g. libc's thread start).
  for (const SourceFrame& f : a.stack) {
    if (!f.file.empty()) return f.function.empty() ? location(f) : location(f) + " in " + f.function;
    if (!f.function.empty()) return f.module.empty() ? f.function : module_part(f) + " in " + f.function;
    if (!f.module.empty()) return module_part(f);
  }
  return fmt::format("{:#x}", a.stack.empty() ? 0 : a.stack[0].pc);
}

std::string race_title(const RaceReport& race) {
  return race.value_changed ? "data race (value changed)" : kind_title(race.kind);
}

const ReportAccess& summary_access(const RaceReport& race) {
  return race.value_changed && !race.writer_known ? race.previous : race.current;
}

std::string thread_label(uint32_t uid, const std::string& name, uint32_t tid) {
  if (uid == kUnknownThreadUid) return "an unknown thread";
  std::string s = uid == 0 ? std::string("main thread") : fmt::format("thread T{}", uid);
  if (uid != 0 && !name.empty()) s += fmt::format(" '{}'", name);
  if (tid != 0) s += fmt::format(" (tid={})", tid);
  return s;
}

std::string function_base_name(const std::string& function) {
  size_t close = function.rfind(')');
  if (close == std::string::npos) return function;
  int depth = 0;
  for (size_t i = close + 1; i-- > 0;) {
    if (function[i] == ')') ++depth;
    else if (function[i] == '(' && --depth == 0) return i == 0 ? function : function.substr(0, i);
  }
  return function;
}

namespace {

constexpr MisuseKindInfo kMisuseKinds[] = {
    {1, "unlock-of-unlocked-mutex", "unlock", "UnlockOfUnlockedMutex", "Unlock of an unlocked mutex",
     "pthread_mutex_unlock on a mutex that is not locked, of any kind (normal: undefined behaviour; "
     "error-checking, recursive, robust, priority-inheritance: the call fails with EPERM). Either way the "
     "program's idea of who holds the lock is wrong."},
    {2, "unlock-by-non-owner", "unlock", "UnlockByNonOwner", "Unlock of a mutex held by another thread",
     "pthread_mutex_unlock on a mutex another thread holds (normal: undefined behaviour, the lock is "
     "released under its owner; the other kinds: the call fails with EPERM)."},
    {3, "destroy-of-locked-mutex", "destroy", "DestroyOfLockedMutex", "Destroy of a locked mutex",
     "pthread_mutex_destroy on a mutex that is locked: undefined behaviour."},
    {4, "cond-wait-with-unheld-mutex", "wait", "CondWaitWithUnheldMutex",
     "Condition wait with a mutex the thread does not hold",
     "pthread_cond_wait (or a timed form) called with a mutex the calling thread has not locked: "
     "undefined behaviour, and the wait no longer protects the predicate."},
    {5, "self-deadlock", "lock", "SelfDeadlock", "Relock of a held non-recursive mutex (self-deadlock)",
     "A thread locks a normal (default) mutex it already holds: the call never returns (or only at "
     "its timeout)."},
    {6, "invalid-mutex", "lock", "InvalidMutex", "Use of an invalid mutex",
     "A pthread mutex call on memory that is not an initialized mutex (never initialized, destroyed, or "
     "overwritten): the call fails with EINVAL, or worse."},
    {7, "unlock-of-unheld-rwlock", "unlock", "UnlockOfUnheldRwlock",
     "Unlock of a rwlock the thread does not hold",
     "pthread_rwlock_unlock by a thread that holds neither a read nor the write lock on it: undefined "
     "behaviour (glibc releases another thread's hold)."},
    {8, "destroy-of-locked-rwlock", "destroy", "DestroyOfLockedRwlock", "Destroy of a held rwlock",
     "pthread_rwlock_destroy while a thread holds a read or write lock on it: undefined behaviour."},
    {9, "destroy-of-busy-barrier", "destroy", "DestroyOfBusyBarrier", "Destroy of a barrier threads wait on",
     "pthread_barrier_destroy while threads wait on the barrier: undefined behaviour (glibc blocks until "
     "the round completes)."},
    {10, "destroy-of-busy-semaphore", "destroy", "DestroyOfBusySemaphore",
     "Destroy of a semaphore threads wait on",
     "sem_destroy while threads are blocked on the semaphore: undefined behaviour."},
    {11, "destroy-of-busy-condvar", "destroy", "DestroyOfBusyCondVar",
     "Destroy of a condition variable threads wait on",
     "pthread_cond_destroy while threads wait on the condition variable: undefined behaviour (glibc blocks "
     "until they have woken)."},
    {12, "cond-wait-with-two-mutexes", "wait", "CondWaitWithTwoMutexes",
     "One condition variable waited on with two different mutexes",
     "Two threads wait on the same condition variable at the same time with different mutexes: "
     "undefined behaviour, and at least one predicate is not protected by the lock its waiter holds."},
    {13, "thread-exit-holding-lock", "exit", "ThreadExitHoldingLock", "Thread exit while holding a mutex",
     "A thread ends while it still holds a (non-robust) mutex: nobody can unlock it any more, and every "
     "later lock of it blocks forever."},
    {14, "barrier-init-count-zero", "init", "BarrierInitCountZero", "Barrier initialized with a count of 0",
     "pthread_barrier_init with a count of 0: the call fails with EINVAL and the barrier is unusable."},
    {15, "barrier-reinit-in-use", "init", "BarrierReinitInUse", "Re-initialization of a barrier threads wait on",
     "pthread_barrier_init on a barrier that threads are waiting on: undefined behaviour (the waiters may "
     "never be released)."},
    {16, "sem-init-in-use", "init", "SemInitInUse", "Re-initialization of a semaphore threads wait on",
     "sem_init on a semaphore that threads are blocked on: undefined behaviour (the waiters may never be "
     "woken)."},
    {17, "unlock-of-unheld-annotated-lock", "unlock", "UnlockOfUnheldAnnotatedLock",
     "Release of an annotated lock the thread does not hold",
     "AnnotateRWLockReleased (RACETRAP_RWLOCK_RELEASED) for a lock the thread has not acquired "
     "(AnnotateRWLockAcquired): the program's hand-written lock is released by a thread that does not "
     "hold it."},
};
static_assert(sizeof kMisuseKinds / sizeof kMisuseKinds[0] == kMaxMisuseKind);

}  // namespace

const MisuseKindInfo* misuse_kind_info(const std::string& kind) {
  for (const MisuseKindInfo& info : kMisuseKinds)
    if (kind == info.name) return &info;
  return nullptr;
}

const char* misuse_kind_name(uint32_t misuse_kind) {
  for (const MisuseKindInfo& info : kMisuseKinds)
    if (info.kind == misuse_kind) return info.name;
  return "pthread-misuse";
}

bool is_misuse_kind(const std::string& kind) {
  return misuse_kind_info(kind) != nullptr || kind == "pthread-misuse";
}

const char* misuse_object_name(uint32_t object) {
  switch (static_cast<MisuseObject>(object)) {
    case MisuseObject::kMutex: return "mutex";
    case MisuseObject::kRwlock: return "rwlock";
    case MisuseObject::kSpinLock: return "spin lock";
    case MisuseObject::kCondVar: return "condition variable";
    case MisuseObject::kBarrier: return "barrier";
    case MisuseObject::kSemaphore: return "semaphore";
    case MisuseObject::kAnnotatedLock: return "annotated lock";
  }
  return "mutex";
}

std::string call_result_name(int32_t result) {
  if (result == 0) return "0";
  if (result > 0) {
    if (const char* name = strerrorname_np(result)) return name;
  }
  return std::to_string(result);
}

std::string kind_title(const std::string& kind) {
  if (kind == "data-race") return "data race";
  if (kind == kLockOrderInversionKind) return "lock-order-inversion (potential deadlock)";
  return kind;
}

std::string misuse_description(const RaceReport& race) {
  const ReportAccess& a = race.current;
  const std::string who = thread_label(a.thread_uid, a.thread_name, a.os_tid);
  const std::string symbol = race.location.symbol.empty() ? ""
                             : race.location.start == a.address
                                 ? fmt::format(" '{}'", race.location.symbol)
                                 : fmt::format(" '{}+{:#x}'", race.location.symbol, a.address - race.location.start);
  const std::string mutex = fmt::format("M1{} ({:#x})", symbol, a.address);
  const std::string object = race.object + " " + mutex;  // "rwlock M1 'l' (0x...)"
  const std::string owner = race.owner_tid != 0 ? fmt::format(" (held by tid={})", race.owner_tid) : "";
  const std::string returned =
      race.has_result ? fmt::format("; the call returned {}", call_result_name(race.result)) : "";
  const std::string& k = race.kind;
  std::string text;
  if (k == "unlock-of-unlocked-mutex") text = fmt::format("Unlock of {}, which is not locked, by {}", object, who);
  else if (k == "unlock-by-non-owner")
    text = fmt::format("Unlock of {} by {}, which does not hold it{}", object, who, owner);
  else if (k == "destroy-of-locked-mutex")
    text = fmt::format("Destroy of {} while it is locked{}, by {}", object, owner, who);
  else if (k == "cond-wait-with-unheld-mutex")
    text = fmt::format("Condition wait with {}, which {} does not hold{}", object, who, owner);
  else if (k == "self-deadlock")
    text = fmt::format("Lock of non-recursive {} by {}, which already holds it "
                       "(the call blocks forever, or until its timeout)",
                       object, who);
  else if (k == "invalid-mutex")
    text = fmt::format("Use of {}, which is not an initialized mutex, by {}", object, who);
  else if (k == "unlock-of-unheld-rwlock" || k == "unlock-of-unheld-annotated-lock")
    text = fmt::format("Unlock of {} by {}, which holds no lock on it", object, who);
  else if (k == "destroy-of-locked-rwlock")
    text = fmt::format("Destroy of {} while it is held{}, by {}", object, owner, who);
  else if (k == "destroy-of-busy-barrier" || k == "destroy-of-busy-semaphore" || k == "destroy-of-busy-condvar")
    text = fmt::format("Destroy of {} while threads wait on it, by {}", object, who);
  else if (k == "cond-wait-with-two-mutexes")
    text = fmt::format("Wait on {} with mutex {:#x} by {}, while another thread waits on it with mutex {:#x}",
                       object, race.with_mutex, who, race.other_mutex);
  else if (k == "thread-exit-holding-lock")
    text = fmt::format("{} exits while holding {}{}", who, object,
                       race.lock_count > 1 ? fmt::format(" and {} more", race.lock_count - 1) : "");
  else if (k == "barrier-init-count-zero")
    text = fmt::format("Initialization of {} with a count of 0 by {}", object, who);
  else if (k == "barrier-reinit-in-use" || k == "sem-init-in-use")
    text = fmt::format("Re-initialization of {} while threads wait on it, by {}", object, who);
  else text = fmt::format("Misuse of {} by {}", object, who);
  if (!text.empty()) text[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
  return text + returned;
}

uint64_t total_count(const std::vector<RaceReport>& races) {
  uint64_t n = 0;
  for (const RaceReport& r : races) n += r.count;
  return n;
}

}  // namespace racetrap
