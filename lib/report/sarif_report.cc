// sarif_report.cc — ReportModel -> SARIF 2.1.0 (see sarif_report.h).
#include "sarif_report.h"

#include <fmt/format.h>

#include <cctype>
#include <cstring>
#include <string>

#include "json_report.h"
#include "racetrap_version.h"

namespace racetrap {
namespace {

constexpr const char* kSchemaUri = "https://json.schemastore.org/sarif-2.1.0.json";
constexpr const char* kFingerprintKey = "racetrapStack/v1";

std::string basename_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// RFC 3986 path characters are kept; everything else is percent-encoded.
std::string percent_encode_path(const std::string& path) {
  std::string out;
  for (unsigned char c : path) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        std::strchr("-._~/!$&'()*+,;=:@", c) != nullptr) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string with_slash(std::string dir) {
  if (dir.empty() || dir.back() != '/') dir += '/';
  return dir;
}

struct RuleInfo {
  std::string id;  // "" when the kind has no rule
  const char* name;
  const char* short_text;
  const char* full_text;
};

RuleInfo rule_for(const std::string& kind) {
  if (kind == "data-race") {
    return {"racetrap/data-race", "DataRace", "Data race",
            "Two threads access the same memory, at least one of them writes, and no "
            "synchronization orders the two accesses."};
  }
  if (kind == "lock-order-inversion") {
    return {"racetrap/lock-order-inversion", "LockOrderInversion", "Lock-order inversion (potential deadlock)",
            "Threads acquire the same mutexes or rwlocks in orders that form a cycle: run at the wrong "
            "moment, each waits for a lock another one holds."};
  }
  if (const MisuseKindInfo* info = misuse_kind_info(kind)) {
    // One rule per misuse kind: racetrap/<kind>.
    return {std::string("racetrap/") + info->name, info->rule_name, info->short_text, info->full_text};
  }
  return {"", nullptr, nullptr, nullptr};
}

class SarifWriter {
 public:
  explicit SarifWriter(const SarifOptions& options) : options_(options) {}

  Json physical(const SourceFrame& f) {
    Json p = Json::object();
    bool relative = false;
    Json& artifact = put(p, "artifactLocation", Json::object());
    put(artifact, "uri", sarif_uri(f.file, options_.source_root, &relative));
    if (relative) {
      put(artifact, "uriBaseId", "SRCROOT");
      used_srcroot_ = true;
    }
    if (f.line > 0) {
      Json& region = put(p, "region", Json::object());
      put(region, "startLine", f.line);
      if (f.column > 0) put(region, "startColumn", f.column);
    }
    return p;
  }

  // A SARIF location for one frame: physical when the file is known, logical
  // (the function) always when named, the module in the message otherwise.
  Json location(const SourceFrame& f, const std::string& message) {
    Json loc = Json::object();
    if (!f.file.empty()) put(loc, "physicalLocation", physical(f));
    if (!f.function.empty()) {
      Json& logical = append(put(loc, "logicalLocations", Json::array()), Json::object());
      put(logical, "fullyQualifiedName", f.function);
      put(logical, "kind", "function");
    }
    if (!message.empty()) put(put(loc, "message", Json::object()), "text", message);
    return loc;
  }

  std::string frame_text(const SourceFrame& f) {
    std::string function = f.function.empty() ? "<unknown>" : f.function;
    std::string module = f.module.empty() ? "<unknown module>"
                                          : fmt::format("{}+{:#x}", basename_of(f.module), f.module_offset);
    return fmt::format("{}{} ({})", function, f.inlined ? " [inlined]" : "", module);
  }

  Json stack(const std::vector<SourceFrame>& frames, const std::string& message, uint32_t thread) {
    Json s = Json::object();
    put(put(s, "message", Json::object()), "text", message);
    Json& out = put(s, "frames", Json::array());
    for (const SourceFrame& f : frames) {
      Json& frame = append(out, Json::object());
      put(frame, "location", location(f, frame_text(f)));
      if (!f.module.empty()) put(frame, "module", f.module);
      put(frame, "threadId", thread);
      Json& props = put(frame, "properties", Json::object());
      put(props, "pc", fmt::format("{:#x}", f.pc));
      put(props, "moduleOffset", fmt::format("{:#x}", f.module_offset));
      if (f.inlined) put(props, "inlined", true);
    }
    return s;
  }

  static const SourceFrame* first_with_file(const ReportAccess& a) {
    for (const SourceFrame& f : a.stack)
      if (!f.file.empty()) return &f;
    return a.stack.empty() ? nullptr : &a.stack[0];
  }

  static std::string access_text(const ReportAccess& a, bool previous) {
    std::string kind = previous ? "Previous " + a.kind : a.kind;
    if (!kind.empty()) kind[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(kind[0])));
    return fmt::format("{} of size {}{} at {:#x} by {}{}", kind, a.size, a.atomic ? " (atomic)" : "",
                       a.address, thread_label(a.thread_uid, a.thread_name, a.os_tid), locks_text(a));
  }

  // ", holding mutex 'lock_a' (0x...)" / ", holding no lock"; "" when unknown.
  static std::string locks_text(const ReportAccess& a) {
    if (!a.locks_known) return "";
    if (a.locks_total == 0) return ", holding no lock";
    std::string text = ", holding ";
    for (size_t i = 0; i < a.locks.size(); ++i) {
      const ReportHeldLock& l = a.locks[i];
      if (i > 0) text += " and ";
      text += l.mode == "mutex" ? "mutex" : "rwlock (" + l.mode + ")";
      if (!l.symbol.empty()) text += fmt::format(" '{}'", l.symbol);
      text += fmt::format(" ({:#x})", l.address);
    }
    if (a.locks_total > a.locks.size())
      text += fmt::format("{}{} more", a.locks.empty() ? "" : " and ", a.locks_total - a.locks.size());
    return text;
  }

  // The result property for one access's held locks.
  static Json locks_json(const ReportAccess& a) {
    Json o = Json::object();
    put(o, "total", a.locks_total);
    Json& list = put(o, "locks", Json::array());
    for (const ReportHeldLock& l : a.locks) {
      Json& j = append(list, Json::object());
      put(j, "address", fmt::format("{:#x}", l.address));
      put(j, "mode", l.mode);
      if (!l.symbol.empty()) put(j, "symbol", l.symbol);
      if (!l.acquired_at.empty()) put(j, "acquiredAt", frame_summary(l.acquired_at[0]));
    }
    return o;
  }

  // The parts every result has beyond its message, locations and stacks.
  Json& common_properties(const RaceReport& r, Json& res) {
    put(put(res, "partialFingerprints", Json::object()), kFingerprintKey, r.fingerprint);
    Json& props = put(res, "properties", Json::object());
    put(props, "kind", r.kind);
    put(props, "count", r.count);
    put(props, "runs", r.runs);
    put(props, "pid", r.pid);
    Json& threads = put(props, "threads", Json::array());
    for (const ReportThread& t : r.threads) {
      Json& j = append(threads, Json::object());
      put(j, "uid", t.uid);
      put(j, "tid", t.os_tid);
      if (!t.name.empty()) put(j, "name", t.name);
      if (t.known) {
        put(j, "createdBy", t.parent_uid);
        Json& frames = put(j, "creationStack", Json::array());
        for (const SourceFrame& f : t.creation) append(frames, frame_to_json(f));
      }
    }
    return props;
  }

  static std::string lock_name(const std::vector<uint64_t>& locks, uint64_t lock) {
    for (size_t i = 0; i < locks.size(); ++i)
      if (locks[i] == lock) return fmt::format("M{}", i + 1);
    return fmt::format("{:#x}", lock);
  }

  // A lock-order inversion: one stack (and location) per edge of the cycle.
  Json cycle_result(const RaceReport& r, int rule_index, const char* rule_id) {
    Json res = Json::object();
    put(res, "ruleId", rule_id);
    put(res, "ruleIndex", rule_index);
    put(res, "level", "error");
    std::vector<uint64_t> locks;
    for (const ReportLockEdge& e : r.cycle) locks.push_back(e.held);
    std::string order;
    for (const ReportLockEdge& e : r.cycle) {
      order += lock_name(locks, e.held);
      if (!e.held_symbol.empty()) order += fmt::format(" '{}'", e.held_symbol);
      order += " => ";
    }
    if (!r.cycle.empty()) order += lock_name(locks, r.cycle[0].held);
    std::string seen = r.count > 1 ? fmt::format(" Seen {} times.", r.count) : "";
    put(put(res, "message", Json::object()), "text",
        fmt::format("Lock-order inversion (potential deadlock): {}.{}", order, seen));
    auto edge_text = [&](const ReportLockEdge& e) {
      return fmt::format("Mutex {} acquired while holding mutex {} in {}", lock_name(locks, e.acquired),
                         lock_name(locks, e.held),
                         thread_label(e.acquire.thread_uid, e.acquire.thread_name, e.acquire.os_tid));
    };
    Json& locations = put(res, "locations", Json::array());
    if (!r.cycle.empty() && first_with_file(r.cycle[0].acquire) != nullptr)
      append(locations, location(*first_with_file(r.cycle[0].acquire), ""));
    else
      append(locations, location(SourceFrame{}, "unknown location"));
    Json& related = put(res, "relatedLocations", Json::array());
    Json& stacks = put(res, "stacks", Json::array());
    int id = 1;
    for (const ReportLockEdge& e : r.cycle) {
      if (const SourceFrame* f = first_with_file(e.acquire)) {
        Json loc = location(*f, edge_text(e));
        put(loc, "id", id++);
        append(related, std::move(loc));
      }
      append(stacks, stack(e.acquire.stack, edge_text(e), e.acquire.thread_uid));
    }
    Json& props = common_properties(r, res);
    Json& cycle = put(props, "cycle", Json::array());
    for (const ReportLockEdge& e : r.cycle) {
      Json& j = append(cycle, Json::object());
      put(j, "held", fmt::format("{:#x}", e.held));
      put(j, "acquired", fmt::format("{:#x}", e.acquired));
      if (!e.held_symbol.empty()) put(j, "heldSymbol", e.held_symbol);
      if (!e.acquired_symbol.empty()) put(j, "acquiredSymbol", e.acquired_symbol);
    }
    return res;
  }

  // pthread misuse: the offending call (and the earlier acquisition, if known).
  Json misuse_result(const RaceReport& r, int rule_index, const char* rule_id) {
    Json res = Json::object();
    put(res, "ruleId", rule_id);
    put(res, "ruleIndex", rule_index);
    put(res, "level", "error");
    std::string seen = r.count > 1 ? fmt::format(" Seen {} times.", r.count) : "";
    std::string text = misuse_description(r);
    put(put(res, "message", Json::object()), "text", fmt::format("{}.{}", text, seen));
    Json& locations = put(res, "locations", Json::array());
    if (const SourceFrame* f = first_with_file(r.current)) append(locations, location(*f, ""));
    else append(locations, location(SourceFrame{}, "unknown location"));
    Json& related = put(res, "relatedLocations", Json::array());
    Json& stacks = put(res, "stacks", Json::array());
    append(stacks, stack(r.current.stack, text, r.current.thread_uid));
    if (r.has_previous) {
      const std::string earlier = "Mutex M1 previously acquired by the same thread";
      if (const SourceFrame* f = first_with_file(r.previous)) {
        Json loc = location(*f, earlier);
        put(loc, "id", 1);
        append(related, std::move(loc));
      }
      append(stacks, stack(r.previous.stack, earlier, r.previous.thread_uid));
    }
    Json& props = common_properties(r, res);
    put(props, "mutex", fmt::format("{:#x}", r.current.address));
    if (r.owner_tid != 0) put(props, "ownerTid", r.owner_tid);
    put(props, "object", r.object);
    if (r.has_result) put(props, "callResult", call_result_name(r.result));
    return res;
  }

  Json result(const RaceReport& r, int rule_index, const char* rule_id) {
    if (r.kind == "lock-order-inversion") return cycle_result(r, rule_index, rule_id);
    if (r.kind != "data-race") return misuse_result(r, rule_index, rule_id);
    Json res = Json::object();
    put(res, "ruleId", rule_id);
    put(res, "ruleIndex", rule_index);
    put(res, "level", "error");
    std::string where = r.location.symbol.empty() ? "" : fmt::format(" on '{}'", r.location.symbol);
    std::string seen = r.count > 1 ? fmt::format(" Seen {} times{}.", r.count,
                                                 r.runs > 1 ? fmt::format(" in {} runs", r.runs) : "")
                                   : "";
    put(put(res, "message", Json::object()), "text",
        fmt::format("{}{}: {} conflicts with {} at {}.{}{}", r.value_changed ? "Data race (value changed)" : "Data race", where,
                    access_text(r.current, false), access_text(r.previous, true),
                    access_summary(r.previous), seen,
                    r.value_changed ? fmt::format(" Found by value-change sampling: the value changed from {:#x} to {:#x} while the previous access waited{}.", r.value_before, r.value_after, r.writer_known ? "" : "; the writer was not identified") : ""));
    Json& locations = put(res, "locations", Json::array());
    if (const SourceFrame* f = first_with_file(summary_access(r))) append(locations, location(*f, ""));
    else append(locations, location(SourceFrame{}, "unknown location"));
    Json& related = put(res, "relatedLocations", Json::array());
    if (const SourceFrame* f = first_with_file(r.previous)) {
      Json loc = location(*f, access_text(r.previous, true));
      put(loc, "id", 1);
      append(related, std::move(loc));
    }
    Json& stacks = put(res, "stacks", Json::array());
    append(stacks, stack(r.current.stack, access_text(r.current, false), r.current.thread_uid));
    append(stacks, stack(r.previous.stack, access_text(r.previous, true), r.previous.thread_uid));
    Json& props = common_properties(r, res);
    Json& loc = put(props, "memory", Json::object());
    put(loc, "kind", r.location.kind);
    if (!r.location.symbol.empty()) put(loc, "symbol", r.location.symbol);
    if (r.location.size != 0) put(loc, "size", r.location.size);
    if (!r.location.module.empty()) put(loc, "module", r.location.module);
    if (r.location.has_thread) put(loc, "threadUid", r.location.thread_uid);
    if (r.value_changed) {
      put(props, "detection", "value-change");
      put(props, "writerKnown", r.writer_known);
    }
    if (r.has_values) {
      put(props, "valueBefore", fmt::format("{:#x}", r.value_before));
      put(props, "valueAfter", fmt::format("{:#x}", r.value_after));
    }
    if (r.current.locks_known || r.previous.locks_known) {
      Json& locks = put(props, "locksHeld", Json::object());
      if (r.current.locks_known) put(locks, "current", locks_json(r.current));
      if (r.previous.locks_known) put(locks, "previous", locks_json(r.previous));
    }
    return res;
  }

  Json run(const ReportModel& model) {
    Json run = Json::object();
    Json& driver = put(put(run, "tool", Json::object()), "driver", Json::object());
    put(driver, "name", "racetrap");
    put(driver, "version", RACETRAP_VERSION_STRING);
    put(driver, "informationUri", "https://github.com/racetrap/racetrap");
    // Rules: one per bug kind present (data-race is always listed).
    std::vector<std::string> kinds = {"data-race"};
    for (const RaceReport& r : model.races) {
      bool have = false;
      for (const std::string& k : kinds) have = have || k == r.kind;
      if (!have && !rule_for(r.kind).id.empty()) kinds.push_back(r.kind);
    }
    Json& rules = put(driver, "rules", Json::array());
    for (const std::string& kind : kinds) {
      RuleInfo info = rule_for(kind);
      Json& rule = append(rules, Json::object());
      put(rule, "id", info.id);
      put(rule, "name", info.name);
      put(put(rule, "shortDescription", Json::object()), "text", info.short_text);
      put(put(rule, "fullDescription", Json::object()), "text", info.full_text);
      put(put(rule, "defaultConfiguration", Json::object()), "level", "error");
    }
    Json results = Json::array();
    for (const RaceReport& r : model.races) {
      int index = 0;
      for (size_t i = 0; i < kinds.size(); ++i)
        if (kinds[i] == r.kind) index = static_cast<int>(i);
      RuleInfo info = rule_for(kinds[index]);
      append(results, result(r, index, info.id.c_str()));
    }
    if (used_srcroot_) {
      put(put(put(run, "originalUriBaseIds", Json::object()), "SRCROOT", Json::object()), "uri",
          "file://" + percent_encode_path(with_slash(options_.source_root)));
    }
    put(run, "results", std::move(results));
    Json& props = put(run, "properties", Json::object());
    Json& pids = put(props, "pids", Json::array());
    for (const RunInfo& info : model.runs) append(pids, info.pid);
    put(props, "suppressed", static_cast<uint64_t>(model.suppressed.size()));
    if (!model.stats.empty()) {
      Json& stats = put(props, "stats", Json::object());
      for (const auto& [name, value] : model.stats) put(stats, name, value);
    }
    return run;
  }

 private:
  const SarifOptions& options_;
  bool used_srcroot_ = false;
};

}  // namespace

std::string sarif_uri(const std::string& path, const std::string& source_root, bool* relative) {
  *relative = false;
  if (!source_root.empty() && !path.empty()) {
    std::string root = with_slash(source_root);
    if (path.compare(0, root.size(), root) == 0 && path.size() > root.size()) {
      *relative = true;
      return percent_encode_path(path.substr(root.size()));
    }
  }
  if (!path.empty() && path[0] == '/') return "file://" + percent_encode_path(path);
  return percent_encode_path(path);
}

Json report_to_sarif(const ReportModel& model, const SarifOptions& options) {
  Json root = Json::object();
  put(root, "$schema", kSchemaUri);
  put(root, "version", "2.1.0");
  append(put(root, "runs", Json::array()), SarifWriter(options).run(model));
  return root;
}

std::string render_sarif_report(const ReportModel& model, const SarifOptions& options) {
  return dump_json(report_to_sarif(model, options)) + "\n";
}

}  // namespace racetrap
