// race_report_model.cc — builds the report model from a raw stream (dedup by
// unordered stack pair, symbolize, locate memory, count) and merges models of many
// runs by fingerprint (see race_report_model.h).
#include "race_report_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <map>
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
    if (writes_kind(r.current.kind)) {
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
    const char* call = "lock";
    switch (static_cast<MisuseKind>(r.kind)) {
      case MisuseKind::kUnlockOfUnlocked:
      case MisuseKind::kUnlockByNonOwner: call = "unlock"; break;
      case MisuseKind::kDestroyOfLocked: call = "destroy"; break;
      case MisuseKind::kCondWaitUnheld: call = "wait"; break;
      default: break;
    }
    out.current = lock_event(call, r.mutex, r.thread_uid, r.os_tid, r.stack);
    out.owner_tid = r.owner_tid;
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
  for (const RaceRecord& record : log.races) {
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

std::string thread_label(uint32_t uid, const std::string& name, uint32_t tid) {
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

const char* misuse_kind_name(uint32_t misuse_kind) {
  switch (static_cast<MisuseKind>(misuse_kind)) {
    case MisuseKind::kUnlockOfUnlocked: return "unlock-of-unlocked-mutex";
    case MisuseKind::kUnlockByNonOwner: return "unlock-by-non-owner";
    case MisuseKind::kDestroyOfLocked: return "destroy-of-locked-mutex";
    case MisuseKind::kCondWaitUnheld: return "cond-wait-with-unheld-mutex";
    case MisuseKind::kSelfDeadlock: return "self-deadlock";
  }
  return "pthread-misuse";
}

bool is_misuse_kind(const std::string& kind) {
  for (uint32_t k = 1; k <= 5; ++k)
    if (kind == misuse_kind_name(k)) return true;
  return kind == "pthread-misuse";
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
  const std::string owner = race.owner_tid != 0 ? fmt::format(" (held by tid={})", race.owner_tid) : "";
  if (race.kind == "unlock-of-unlocked-mutex")
    return fmt::format("Unlock of mutex {}, which is not locked, by {}", mutex, who);
  if (race.kind == "unlock-by-non-owner")
    return fmt::format("Unlock of mutex {} by {}, which does not hold it{}", mutex, who, owner);
  if (race.kind == "destroy-of-locked-mutex")
    return fmt::format("Destroy of mutex {} while it is locked{}, by {}", mutex, owner, who);
  if (race.kind == "cond-wait-with-unheld-mutex")
    return fmt::format("Condition wait with mutex {}, which {} does not hold{}", mutex, who, owner);
  if (race.kind == "self-deadlock")
    return fmt::format("Lock of non-recursive mutex {} by {}, which already holds it "
                       "(the call blocks forever, or until its timeout)",
                       mutex, who);
  return fmt::format("Misuse of mutex {} by {}", mutex, who);
}

uint64_t total_count(const std::vector<RaceReport>& races) {
  uint64_t n = 0;
  for (const RaceReport& r : races) n += r.count;
  return n;
}

}  // namespace racetrap
