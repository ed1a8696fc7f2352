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
    Json& artifact = p.set("artifactLocation", Json::object());
    artifact.set("uri", sarif_uri(f.file, options_.source_root, &relative));
    if (relative) {
      artifact.set("uriBaseId", "SRCROOT");
      used_srcroot_ = true;
    }
    if (f.line > 0) {
      Json& region = p.set("region", Json::object());
      region.set("startLine", f.line);
      if (f.column > 0) region.set("startColumn", f.column);
    }
    return p;
  }

  // A SARIF location for one frame: physical when the file is known, logical
  // (the function) always when named, the module in the message otherwise.
  Json location(const SourceFrame& f, const std::string& message) {
    Json loc = Json::object();
    if (!f.file.empty()) loc.set("physicalLocation", physical(f));
    if (!f.function.empty()) {
      Json& logical = loc.set("logicalLocations", Json::array()).push(Json::object());
      logical.set("fullyQualifiedName", f.function);
      logical.set("kind", "function");
    }
    if (!message.empty()) loc.set("message", Json::object()).set("text", message);
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
    s.set("message", Json::object()).set("text", message);
    Json& out = s.set("frames", Json::array());
    for (const SourceFrame& f : frames) {
      Json& frame = out.push(Json::object());
      frame.set("location", location(f, frame_text(f)));
      if (!f.module.empty()) frame.set("module", f.module);
      frame.set("threadId", thread);
      Json& props = frame.set("properties", Json::object());
      props.set("pc", fmt::format("{:#x}", f.pc));
      props.set("moduleOffset", fmt::format("{:#x}", f.module_offset));
      if (f.inlined) props.set("inlined", true);
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
    o.set("total", a.locks_total);
    Json& list = o.set("locks", Json::array());
    for (const ReportHeldLock& l : a.locks) {
      Json& j = list.push(Json::object());
      j.set("address", fmt::format("{:#x}", l.address));
      j.set("mode", l.mode);
      if (!l.symbol.empty()) j.set("symbol", l.symbol);
      if (!l.acquired_at.empty()) j.set("acquiredAt", frame_summary(l.acquired_at[0]));
    }
    return o;
  }

  // The parts every result has beyond its message, locations and stacks.
  Json& common_properties(const RaceReport& r, Json& res) {
    res.set("partialFingerprints", Json::object()).set(kFingerprintKey, r.fingerprint);
    Json& props = res.set("properties", Json::object());
    props.set("kind", r.kind);
    props.set("count", r.count);
    props.set("runs", r.runs);
    props.set("pid", r.pid);
    Json& threads = props.set("threads", Json::array());
    for (const ReportThread& t : r.threads) {
      Json& j = threads.push(Json::object());
      j.set("uid", t.uid);
      j.set("tid", t.os_tid);
      if (!t.name.empty()) j.set("name", t.name);
      if (t.known) {
        j.set("createdBy", t.parent_uid);
        Json& frames = j.set("creationStack", Json::array());
        for (const SourceFrame& f : t.creation) frames.push(frame_to_json(f));
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
    res.set("ruleId", rule_id);
    res.set("ruleIndex", rule_index);
    res.set("level", "error");
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
    res.set("message", Json::object())
        .set("text", fmt::format("Lock-order inversion (potential deadlock): {}.{}", order, seen));
    auto edge_text = [&](const ReportLockEdge& e) {
      return fmt::format("Mutex {} acquired while holding mutex {} in {}", lock_name(locks, e.acquired),
                         lock_name(locks, e.held),
                         thread_label(e.acquire.thread_uid, e.acquire.thread_name, e.acquire.os_tid));
    };
    Json& locations = res.set("locations", Json::array());
    if (!r.cycle.empty() && first_with_file(r.cycle[0].acquire) != nullptr)
      locations.push(location(*first_with_file(r.cycle[0].acquire), ""));
    else
      locations.push(location(SourceFrame{}, "unknown location"));
    Json& related = res.set("relatedLocations", Json::array());
    Json& stacks = res.set("stacks", Json::array());
    int id = 1;
    for (const ReportLockEdge& e : r.cycle) {
      if (const SourceFrame* f = first_with_file(e.acquire)) {
        Json loc = location(*f, edge_text(e));
        loc.set("id", id++);
        related.push(std::move(loc));
      }
      stacks.push(stack(e.acquire.stack, edge_text(e), e.acquire.thread_uid));
    }
    Json& props = common_properties(r, res);
    Json& cycle = props.set("cycle", Json::array());
    for (const ReportLockEdge& e : r.cycle) {
      Json& j = cycle.push(Json::object());
      j.set("held", fmt::format("{:#x}", e.held));
      j.set("acquired", fmt::format("{:#x}", e.acquired));
      if (!e.held_symbol.empty()) j.set("heldSymbol", e.held_symbol);
      if (!e.acquired_symbol.empty()) j.set("acquiredSymbol", e.acquired_symbol);
    }
    return res;
  }

  // pthread misuse: the offending call (and the earlier acquisition, if known).
  Json misuse_result(const RaceReport& r, int rule_index, const char* rule_id) {
    Json res = Json::object();
    res.set("ruleId", rule_id);
    res.set("ruleIndex", rule_index);
    res.set("level", "error");
    std::string seen = r.count > 1 ? fmt::format(" Seen {} times.", r.count) : "";
    std::string text = misuse_description(r);
    res.set("message", Json::object()).set("text", fmt::format("{}.{}", text, seen));
    Json& locations = res.set("locations", Json::array());
    if (const SourceFrame* f = first_with_file(r.current)) locations.push(location(*f, ""));
    else locations.push(location(SourceFrame{}, "unknown location"));
    Json& related = res.set("relatedLocations", Json::array());
    Json& stacks = res.set("stacks", Json::array());
    stacks.push(stack(r.current.stack, text, r.current.thread_uid));
    if (r.has_previous) {
      const std::string earlier = "Mutex M1 previously acquired by the same thread";
      if (const SourceFrame* f = first_with_file(r.previous)) {
        Json loc = location(*f, earlier);
        loc.set("id", 1);
        related.push(std::move(loc));
      }
      stacks.push(stack(r.previous.stack, earlier, r.previous.thread_uid));
    }
    Json& props = common_properties(r, res);
    props.set("mutex", fmt::format("{:#x}", r.current.address));
    if (r.owner_tid != 0) props.set("ownerTid", r.owner_tid);
    props.set("object", r.object);
    if (r.has_result) props.set("callResult", call_result_name(r.result));
    return res;
  }

  Json result(const RaceReport& r, int rule_index, const char* rule_id) {
    if (r.kind == "lock-order-inversion") return cycle_result(r, rule_index, rule_id);
    if (r.kind != "data-race") return misuse_result(r, rule_index, rule_id);
    Json res = Json::object();
    res.set("ruleId", rule_id);
    res.set("ruleIndex", rule_index);
    res.set("level", "error");
    std::string where = r.location.symbol.empty() ? "" : fmt::format(" on '{}'", r.location.symbol);
    std::string seen = r.count > 1 ? fmt::format(" Seen {} times{}.", r.count,
                                                 r.runs > 1 ? fmt::format(" in {} runs", r.runs) : "")
                                   : "";
    res.set("message", Json::object())
        .set("text", fmt::format("{}{}: {} conflicts with {} at {}.{}{}", r.value_changed ? "Data race (value changed)" : "Data race", where,
                                 access_text(r.current, false), access_text(r.previous, true),
                                 access_summary(r.previous), seen,
                                 r.value_changed ? fmt::format(" Found by value-change sampling: the value changed from {:#x} to {:#x} while the previous access waited{}.", r.value_before, r.value_after, r.writer_known ? "" : "; the writer was not identified") : ""));
    Json& locations = res.set("locations", Json::array());
    if (const SourceFrame* f = first_with_file(summary_access(r))) locations.push(location(*f, ""));
    else locations.push(location(SourceFrame{}, "unknown location"));
    Json& related = res.set("relatedLocations", Json::array());
    if (const SourceFrame* f = first_with_file(r.previous)) {
      Json loc = location(*f, access_text(r.previous, true));
      loc.set("id", 1);
      related.push(std::move(loc));
    }
    Json& stacks = res.set("stacks", Json::array());
    stacks.push(stack(r.current.stack, access_text(r.current, false), r.current.thread_uid));
    stacks.push(stack(r.previous.stack, access_text(r.previous, true), r.previous.thread_uid));
    Json& props = common_properties(r, res);
    Json& loc = props.set("memory", Json::object());
    loc.set("kind", r.location.kind);
    if (!r.location.symbol.empty()) loc.set("symbol", r.location.symbol);
    if (r.location.size != 0) loc.set("size", r.location.size);
    if (!r.location.module.empty()) loc.set("module", r.location.module);
    if (r.location.has_thread) loc.set("threadUid", r.location.thread_uid);
    if (r.value_changed) {
      props.set("detection", "value-change");
      props.set("writerKnown", r.writer_known);
    }
    if (r.has_values) {
      props.set("valueBefore", fmt::format("{:#x}", r.value_before));
      props.set("valueAfter", fmt::format("{:#x}", r.value_after));
    }
    if (r.current.locks_known || r.previous.locks_known) {
      Json& locks = props.set("locksHeld", Json::object());
      if (r.current.locks_known) locks.set("current", locks_json(r.current));
      if (r.previous.locks_known) locks.set("previous", locks_json(r.previous));
    }
    return res;
  }

  Json run(const ReportModel& model) {
    Json run = Json::object();
    Json& driver = run.set("tool", Json::object()).set("driver", Json::object());
    driver.set("name", "racetrap");
    driver.set("version", RACETRAP_VERSION_STRING);
    driver.set("informationUri", "https://github.com/racetrap/racetrap");
    // Rules: one per bug kind present (data-race is always listed).
    std::vector<std::string> kinds = {"data-race"};
    for (const RaceReport& r : model.races) {
      bool have = false;
      for (const std::string& k : kinds) have = have || k == r.kind;
      if (!have && !rule_for(r.kind).id.empty()) kinds.push_back(r.kind);
    }
    Json& rules = driver.set("rules", Json::array());
    for (const std::string& kind : kinds) {
      RuleInfo info = rule_for(kind);
      Json& rule = rules.push(Json::object());
      rule.set("id", info.id);
      rule.set("name", info.name);
      rule.set("shortDescription", Json::object()).set("text", info.short_text);
      rule.set("fullDescription", Json::object()).set("text", info.full_text);
      rule.set("defaultConfiguration", Json::object()).set("level", "error");
    }
    Json results = Json::array();
    for (const RaceReport& r : model.races) {
      int index = 0;
      for (size_t i = 0; i < kinds.size(); ++i)
        if (kinds[i] == r.kind) index = static_cast<int>(i);
      RuleInfo info = rule_for(kinds[index]);
      results.push(result(r, index, info.id.c_str()));
    }
    if (used_srcroot_) {
      run.set("originalUriBaseIds", Json::object())
          .set("SRCROOT", Json::object())
          .set("uri", "file://" + percent_encode_path(with_slash(options_.source_root)));
    }
    run.set("results", std::move(results));
    Json& props = run.set("properties", Json::object());
    Json& pids = props.set("pids", Json::array());
    for (const RunInfo& info : model.runs) pids.push(info.pid);
    props.set("suppressed", static_cast<uint64_t>(model.suppressed.size()));
    if (!model.stats.empty()) {
      Json& stats = props.set("stats", Json::object());
      for (const auto& [name, value] : model.stats) stats.set(name, value);
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
  root.set("$schema", kSchemaUri);
  root.set("version", "2.1.0");
  root.set("runs", Json::array()).push(SarifWriter(options).run(model));
  return root;
}

std::string render_sarif_report(const ReportModel& model, const SarifOptions& options) {
  return report_to_sarif(model, options).dump(2) + "\n";
}

}  // namespace racetrap
