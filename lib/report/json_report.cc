// json_report.cc — ReportModel <-> JSON (schema: docs/json-report.md).
// Writing omits empty strings, zero line/column and false flags; reading takes an
// absent member as that default, so the round trip is exact.
#include "json_report.h"

#include <fmt/format.h>

#include <cstdlib>

#include "racetrap_version.h"

namespace racetrap {
namespace {

std::string hex(uint64_t v) { return fmt::format("{:#x}", v); }

void set_if(Json& o, const char* key, const std::string& value) {
  if (!value.empty()) put(o, key, value);
}

Json stack_to_json(const std::vector<SourceFrame>& frames) {
  Json a = Json::array();
  for (const SourceFrame& f : frames) append(a, frame_to_json(f));
  return a;
}

Json access_to_json(const ReportAccess& a) {
  Json o = Json::object();
  put(o, "kind", a.kind);
  put(o, "atomic", a.atomic);
  put(o, "size", a.size);
  put(o, "address", hex(a.address));
  Json& t = put(o, "thread", Json::object());
  put(t, "uid", a.thread_uid);
  put(t, "tid", a.os_tid);
  set_if(t, "name", a.thread_name);
  put(o, "stack", stack_to_json(a.stack));
  if (a.locks_known) {
    Json& locks = put(o, "locks_held", Json::array());
    for (const ReportHeldLock& l : a.locks) {
      Json& j = append(locks, Json::object());
      put(j, "address", hex(l.address));
      put(j, "mode", l.mode);
      set_if(j, "symbol", l.symbol);
      if (!l.acquired_at.empty()) put(j, "acquired_at", stack_to_json(l.acquired_at));
    }
    if (a.locks_total > a.locks.size()) put(o, "locks_held_total", a.locks_total);
  }
  return o;
}

Json race_to_json(const RaceReport& r) {
  Json o = Json::object();
  put(o, "kind", r.kind);
  put(o, "fingerprint", r.fingerprint);
  put(o, "pid", r.pid);
  put(o, "count", r.count);
  put(o, "runs", r.runs);
  put(o, "current", access_to_json(r.current));
  if (r.has_previous) put(o, "previous", access_to_json(r.previous));
  if (r.owner_tid != 0) put(o, "owner_tid", r.owner_tid);
  if (is_misuse_kind(r.kind)) {
    put(o, "object", r.object);
    if (r.has_result) {
      put(o, "result", static_cast<int64_t>(r.result));
      put(o, "result_name", call_result_name(r.result));
    }
    if (r.with_mutex != 0) put(o, "with_mutex", hex(r.with_mutex));
    if (r.other_mutex != 0) put(o, "other_mutex", hex(r.other_mutex));
    if (r.lock_count != 0) put(o, "lock_count", r.lock_count);
  }
  if (!r.cycle.empty()) {
    Json& cycle = put(o, "cycle", Json::array());
    for (const ReportLockEdge& e : r.cycle) {
      Json& j = append(cycle, Json::object());
      put(j, "held", hex(e.held));
      put(j, "acquired", hex(e.acquired));
      set_if(j, "held_symbol", e.held_symbol);
      set_if(j, "acquired_symbol", e.acquired_symbol);
      put(j, "acquire", access_to_json(e.acquire));
      if (!e.held_at.empty()) put(j, "held_at", stack_to_json(e.held_at));
    }
    if (r.cycle_truncated) put(o, "cycle_truncated", true);
  }
  Json& loc = put(o, "location", Json::object());
  put(loc, "kind", r.location.kind);
  set_if(loc, "symbol", r.location.symbol);
  if (r.location.start != 0) put(loc, "start", hex(r.location.start));
  if (r.location.size != 0) put(loc, "size", r.location.size);
  set_if(loc, "module", r.location.module);
  if (r.location.has_thread) put(loc, "thread_uid", r.location.thread_uid);
  if (r.value_changed) {
    put(o, "detection", "value-change");
    put(o, "writer_known", r.writer_known);
  }
  if (r.has_values) {
    Json& v = put(o, "values", Json::object());
    put(v, "size", r.value_size);
    put(v, "before", hex(r.value_before));
    put(v, "after", hex(r.value_after));
  }
  Json& threads = put(o, "threads", Json::array());
  for (const ReportThread& t : r.threads) {
    Json& j = append(threads, Json::object());
    put(j, "uid", t.uid);
    put(j, "tid", t.os_tid);
    set_if(j, "name", t.name);
    put(j, "known", t.known);
    if (t.known) {
      put(j, "parent_uid", t.parent_uid);
      set_if(j, "parent_name", t.parent_name);
      put(j, "creation_stack", stack_to_json(t.creation));
    }
  }
  set_if(o, "suppressed_by", r.suppressed_by);
  return o;
}

// Reads members with type checks; the first problem is kept as "path: what".
class Reader {
 public:
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  void fail(const std::string& path, const std::string& what) {
    if (error_.empty()) error_ = path + ": " + what;
  }

  const Json* field(const Json& o, const std::string& path, const char* key, bool required) {
    const Json* v = member(o, key);
    if (v == nullptr && required) fail(path + "." + key, "missing");
    return v;
  }

  std::string str(const Json& o, const std::string& path, const char* key, bool required = false) {
    const Json* v = field(o, path, key, required);
    if (v == nullptr) return {};
    if (!v->is_string()) {
      fail(path + "." + key, "not a string");
      return {};
    }
    return v->get<std::string>();
  }

  uint64_t uint(const Json& o, const std::string& path, const char* key, uint64_t max,
                bool required = false) {
    const Json* v = field(o, path, key, required);
    if (v == nullptr) return 0;
    if (!v->is_number_unsigned() || v->get<uint64_t>() > max) {
      fail(path + "." + key, fmt::format("not an integer in 0..{}", max));
      return 0;
    }
    return v->get<uint64_t>();
  }

  bool boolean(const Json& o, const std::string& path, const char* key) {
    const Json* v = field(o, path, key, false);
    if (v == nullptr) return false;
    if (!v->is_boolean()) {
      fail(path + "." + key, "not true or false");
      return false;
    }
    return v->get<bool>();
  }

  uint64_t address(const Json& o, const std::string& path, const char* key, bool required = false) {
    std::string text = str(o, path, key, required);
    if (text.empty()) return 0;
    if (text.size() < 3 || text.size() > 18 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X')) {
      fail(path + "." + key, "not a hex number \"0x...\"");
      return 0;
    }
    char* end = nullptr;
    uint64_t v = std::strtoull(text.c_str() + 2, &end, 16);
    if (end == nullptr || *end != '\0' || text[2] == '-' || text[2] == '+' || text[2] == ' ') {
      fail(path + "." + key, "not a hex number \"0x...\"");
      return 0;
    }
    return v;
  }

  const Json& object(const Json& o, const std::string& path, const char* key) {
    static const Json kEmpty = Json::object();
    const Json* v = field(o, path, key, true);
    if (v == nullptr) return kEmpty;
    if (!v->is_object()) {
      fail(path + "." + key, "not an object");
      return kEmpty;
    }
    return *v;
  }

  const Json& array(const Json& o, const std::string& path, const char* key, bool required) {
    static const Json kEmpty = Json::array();
    const Json* v = field(o, path, key, required);
    if (v == nullptr) return kEmpty;
    if (!v->is_array()) {
      fail(path + "." + key, "not an array");
      return kEmpty;
    }
    return *v;
  }

  SourceFrame frame(const Json& j, const std::string& path) {
    SourceFrame f;
    if (!j.is_object()) {
      fail(path, "not an object");
      return f;
    }
    f.pc = address(j, path, "pc");
    f.function = str(j, path, "function");
    f.file = str(j, path, "file");
    f.line = static_cast<int>(uint(j, path, "line", 0x7fffffff));
    f.column = static_cast<int>(uint(j, path, "column", 0x7fffffff));
    f.module = str(j, path, "module");
    f.module_offset = address(j, path, "module_offset");
    f.inlined = boolean(j, path, "inlined");
    return f;
  }

  std::vector<SourceFrame> stack(const Json& o, const std::string& path, const char* key) {
    std::vector<SourceFrame> out;
    const Json& a = array(o, path, key, true);
    for (size_t i = 0; i < a.size() && ok(); ++i)
      out.push_back(frame(a[i], fmt::format("{}.{}[{}]", path, key, i)));
    return out;
  }

  ReportAccess access(const Json& o, const std::string& parent, const char* key) {
    ReportAccess a;
    const Json& j = object(o, parent, key);
    std::string path = parent + "." + key;
    a.kind = str(j, path, "kind", true);
    a.atomic = boolean(j, path, "atomic");
    a.size = static_cast<uint32_t>(uint(j, path, "size", 0xffffffff));
    a.address = address(j, path, "address");
    const Json& t = object(j, path, "thread");
    a.thread_uid = static_cast<uint32_t>(uint(t, path + ".thread", "uid", 0xffffffff));
    a.os_tid = static_cast<uint32_t>(uint(t, path + ".thread", "tid", 0xffffffff));
    a.thread_name = str(t, path + ".thread", "name");
    a.stack = stack(j, path, "stack");
    a.locks_known = member(j, "locks_held") != nullptr;
    const Json& locks = array(j, path, "locks_held", false);
    for (size_t i = 0; i < locks.size() && ok(); ++i) {
      std::string lpath = fmt::format("{}.locks_held[{}]", path, i);
      if (!locks[i].is_object()) {
        fail(lpath, "not an object");
        break;
      }
      ReportHeldLock l;
      l.address = address(locks[i], lpath, "address", true);
      l.mode = str(locks[i], lpath, "mode", true);
      if (ok() && l.mode != "mutex" && l.mode != "read" && l.mode != "write")
        fail(lpath + ".mode", "not \"mutex\", \"read\" or \"write\"");
      l.symbol = str(locks[i], lpath, "symbol");
      if (member(locks[i], "acquired_at") != nullptr) l.acquired_at = stack(locks[i], lpath, "acquired_at");
      a.locks.push_back(std::move(l));
    }
    a.locks_total = static_cast<uint32_t>(uint(j, path, "locks_held_total", 0xffffffff));
    if (a.locks_total < a.locks.size()) a.locks_total = static_cast<uint32_t>(a.locks.size());
    return a;
  }

  RaceReport race(const Json& j, const std::string& path) {
    RaceReport r;
    if (!j.is_object()) {
      fail(path, "not an object");
      return r;
    }
    r.kind = str(j, path, "kind", true);
    r.fingerprint = str(j, path, "fingerprint", true);
    r.pid = static_cast<uint32_t>(uint(j, path, "pid", 0xffffffff));
    r.count = uint(j, path, "count", INT64_MAX);
    r.runs = uint(j, path, "runs", INT64_MAX);
    r.current = access(j, path, "current");
    // Only data races always have a previous access (misuse: optional; a
    // lock-order inversion has its cycle instead).
    r.has_previous = r.kind == "data-race" || member(j, "previous") != nullptr;
    if (r.has_previous) r.previous = access(j, path, "previous");
    r.owner_tid = static_cast<uint32_t>(uint(j, path, "owner_tid", 0xffffffff));
    if (member(j, "object") != nullptr) r.object = str(j, path, "object");
    if (const Json* result = member(j, "result")) {
      if (!result->is_number_integer()) fail(path + ".result", "not an integer");
      r.has_result = true;
      r.result = static_cast<int32_t>(result->get<int64_t>());
    }
    r.with_mutex = address(j, path, "with_mutex");
    r.other_mutex = address(j, path, "other_mutex");
    r.lock_count = static_cast<uint32_t>(uint(j, path, "lock_count", 0xffffffff));
    const Json& cycle = array(j, path, "cycle", false);
    for (size_t i = 0; i < cycle.size() && ok(); ++i) {
      std::string epath = fmt::format("{}.cycle[{}]", path, i);
      const Json& e = cycle[i];
      if (!e.is_object()) {
        fail(epath, "not an object");
        break;
      }
      ReportLockEdge edge;
      edge.held = address(e, epath, "held", true);
      edge.acquired = address(e, epath, "acquired", true);
      edge.held_symbol = str(e, epath, "held_symbol");
      edge.acquired_symbol = str(e, epath, "acquired_symbol");
      edge.acquire = access(e, epath, "acquire");
      if (member(e, "held_at") != nullptr) edge.held_at = stack(e, epath, "held_at");
      r.cycle.push_back(std::move(edge));
    }
    r.cycle_truncated = boolean(j, path, "cycle_truncated");
    const Json& loc = object(j, path, "location");
    r.location.kind = str(loc, path + ".location", "kind", true);
    r.location.symbol = str(loc, path + ".location", "symbol");
    r.location.start = address(loc, path + ".location", "start");
    r.location.size = uint(loc, path + ".location", "size", INT64_MAX);
    r.location.module = str(loc, path + ".location", "module");
    r.location.has_thread = member(loc, "thread_uid") != nullptr;
    r.location.thread_uid = static_cast<uint32_t>(uint(loc, path + ".location", "thread_uid", UINT32_MAX));
    r.value_changed = str(j, path, "detection") == "value-change";
    r.writer_known = !r.value_changed || boolean(j, path, "writer_known");
    if (const Json* v = member(j, "values")) {
      std::string vpath = path + ".values";
      if (!v->is_object()) fail(vpath, "not an object");
      r.has_values = true;
      r.value_size = static_cast<uint32_t>(uint(*v, vpath, "size", 8, true));
      r.value_before = address(*v, vpath, "before", true);
      r.value_after = address(*v, vpath, "after", true);
    }
    const Json& threads = array(j, path, "threads", false);
    for (size_t i = 0; i < threads.size() && ok(); ++i) {
      std::string tpath = fmt::format("{}.threads[{}]", path, i);
      const Json& t = threads[i];
      if (!t.is_object()) {
        fail(tpath, "not an object");
        break;
      }
      ReportThread rt;
      rt.uid = static_cast<uint32_t>(uint(t, tpath, "uid", 0xffffffff, true));
      rt.os_tid = static_cast<uint32_t>(uint(t, tpath, "tid", 0xffffffff));
      rt.name = str(t, tpath, "name");
      rt.known = boolean(t, tpath, "known");
      if (rt.known) {
        rt.parent_uid = static_cast<uint32_t>(uint(t, tpath, "parent_uid", 0xffffffff));
        rt.parent_name = str(t, tpath, "parent_name");
        rt.creation = stack(t, tpath, "creation_stack");
      }
      r.threads.push_back(std::move(rt));
    }
    r.suppressed_by = str(j, path, "suppressed_by");
    return r;
  }

 private:
  std::string error_;
};

}  // namespace

Json frame_to_json(const SourceFrame& f) {
  Json o = Json::object();
  put(o, "pc", hex(f.pc));
  set_if(o, "function", f.function);
  set_if(o, "file", f.file);
  if (f.line > 0) put(o, "line", f.line);
  if (f.column > 0) put(o, "column", f.column);
  set_if(o, "module", f.module);
  if (!f.module.empty() || f.module_offset != 0) put(o, "module_offset", hex(f.module_offset));
  if (f.inlined) put(o, "inlined", true);
  return o;
}

Json report_to_json(const ReportModel& model) {
  Json root = Json::object();
  put(root, "format", kJsonReportFormat);
  put(root, "version", kJsonReportVersion);
  Json& tool = put(root, "tool", Json::object());
  put(tool, "name", "racetrap");
  put(tool, "version", RACETRAP_VERSION_STRING);
  Json& runs = put(root, "runs", Json::array());
  for (const RunInfo& r : model.runs) {
    Json& j = append(runs, Json::object());
    put(j, "pid", r.pid);
    set_if(j, "source", r.source);
    if (r.truncated) put(j, "truncated", true);
  }
  Json& races = put(root, "races", Json::array());
  for (const RaceReport& r : model.races) append(races, race_to_json(r));
  Json& suppressed = put(root, "suppressed", Json::array());
  for (const RaceReport& r : model.suppressed) append(suppressed, race_to_json(r));
  if (!model.stats.empty()) {
    Json& stats = put(root, "stats", Json::object());
    for (const auto& [name, value] : model.stats) put(stats, name, value);
  }
  return root;
}

std::string render_json_report(const ReportModel& model) { return dump_json(report_to_json(model)) + "\n"; }

std::optional<ReportModel> parse_json_report(const std::string& text, const std::string& name,
                                             std::string* error) {
  JsonParse parsed = parse_json(text);
  if (!parsed.value) {
    if (error != nullptr) *error = name + ": " + parsed.error;
    return std::nullopt;
  }
  const Json& root = *parsed.value;
  auto fail = [&](const std::string& what) {
    if (error != nullptr) *error = name + ": " + what;
    return std::nullopt;
  };
  if (!root.is_object()) return fail("not a racetrap JSON report (not a JSON object)");
  const Json* format = member(root, "format");
  if (format == nullptr || !format->is_string() || format->get<std::string>() != kJsonReportFormat)
    return fail(fmt::format("not a racetrap JSON report (no \"format\": \"{}\")", kJsonReportFormat));
  const Json* version = member(root, "version");
  if (version == nullptr || !version->is_number_integer() || version->get<int64_t>() < 1 ||
      version->get<int64_t>() > kJsonReportVersion) {
    return fail(fmt::format("unsupported racetrap JSON report version {} (this racetrap reads 1..{})",
                            version == nullptr ? std::string("(missing)") : dump_json(*version, -1),
                            kJsonReportVersion));
  }
  Reader reader;
  ReportModel model;
  const Json& runs = reader.array(root, "$", "runs", true);
  for (size_t i = 0; i < runs.size() && reader.ok(); ++i) {
    std::string path = fmt::format("$.runs[{}]", i);
    if (!runs[i].is_object()) {
      reader.fail(path, "not an object");
      break;
    }
    RunInfo run;
    run.pid = static_cast<uint32_t>(reader.uint(runs[i], path, "pid", 0xffffffff));
    run.source = reader.str(runs[i], path, "source");
    run.truncated = reader.boolean(runs[i], path, "truncated");
    model.runs.push_back(std::move(run));
  }
  const Json& races = reader.array(root, "$", "races", true);
  for (size_t i = 0; i < races.size() && reader.ok(); ++i)
    model.races.push_back(reader.race(races[i], fmt::format("$.races[{}]", i)));
  const Json& suppressed = reader.array(root, "$", "suppressed", false);
  for (size_t i = 0; i < suppressed.size() && reader.ok(); ++i)
    model.suppressed.push_back(reader.race(suppressed[i], fmt::format("$.suppressed[{}]", i)));
  if (const Json* stats = member(root, "stats")) {
    if (!stats->is_object()) reader.fail("$.stats", "not an object");
    for (auto it = stats->begin(); stats->is_object() && it != stats->end(); ++it) {
      if (!it.value().is_number_unsigned()) {
        reader.fail("$.stats." + it.key(), "not a non-negative integer");
        break;
      }
      model.stats.emplace_back(it.key(), it.value().get<uint64_t>());
    }
  }
  if (!reader.ok()) return fail(reader.error());
  if (error != nullptr) error->clear();
  return model;
}

}  // namespace racetrap
