// race_report_model.h — the one model of a race report that every renderer (text,
// JSON, SARIF), the suppressions and `racetrap report` work on: races deduplicated,
// symbolized, located and counted, from one run or merged from many.
//
// Deduplication: within one run, records with the same unordered pair of access
// stacks (pcs included) are one race with a count. Across runs (addresses differ
// under ASLR) races merge by their fingerprint: a hash of the symbolic stacks
// (function, file basename, line; module basename+offset without symbols) of both
// accesses, order-independent — the same race in two runs has the same fingerprint.
// Not signal-safe.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "raw_log_reader.h"
#include "symbolizer.h"

namespace racetrap {

// A lock a thread held at its access (data races; from the raw record's snapshot).
struct ReportHeldLock {
  uint64_t address = 0;
  std::string mode;    // "mutex", "read" or "write" (an rwlock's read or write lock)
  std::string symbol;  // the lock's global name ("lock_a", "table+0x40"), "" when not a global
  std::vector<SourceFrame> acquired_at;  // the call site of its acquisition (may be empty)
  bool operator==(const ReportHeldLock&) const = default;
};

struct ReportAccess {
  std::string kind;  // "read", "write", "read-write" ("access" for a corrupt record)
  bool atomic = false;
  uint32_t size = 0;
  uint64_t address = 0;
  uint32_t thread_uid = 0;   // T<uid>; 0 is the main thread
  uint32_t os_tid = 0;       // 0 when unknown
  std::string thread_name;   // pthread name, "" when none
  std::vector<SourceFrame> stack;  // innermost first, inlined frames expanded
  // Data races: the locks the thread held at the access. locks_known is false when
  // that was not recorded (lock tracking off, a record of an older racetrap, or
  // not a data race); `locks` are the first ones in acquisition order (at most
  // kMaxRecordedLocks) and locks_total counts them all.
  bool locks_known = false;
  std::vector<ReportHeldLock> locks;
  uint32_t locks_total = 0;
  bool operator==(const ReportAccess&) const = default;
};

// How a thread involved in a race was created.
struct ReportThread {
  uint32_t uid = 0;
  uint32_t os_tid = 0;
  std::string name;
  bool known = false;        // false: no record of its creation was written
  uint32_t parent_uid = 0;
  std::string parent_name;
  std::vector<SourceFrame> creation;  // where pthread_create was called
  bool operator==(const ReportThread&) const = default;
};

// Where the raced-on memory is.
struct MemoryLocation {
  // "global" (module data; `symbol` names it when the symbol table does),
  // "stack" (a thread's stack: a recorded thread's stack range, or the [stack]
  // mapping, which is the main thread's), "tls" (a recorded thread's static TLS
  // block and thread descriptor), "heap" ([heap], brk memory; and anonymous
  // memory once the stream records thread ranges, unless it looks like the
  // stack of a thread with no record: a guard page right below it),
  // "heap-or-stack" (anonymous memory that may be either), "unknown" (not in
  // the maps snapshot).
  std::string kind = "unknown";
  std::string symbol;   // demangled global name, "" when unknown
  uint64_t start = 0;   // first byte of the symbol (global with symbol only)
  uint64_t size = 0;    // symbol size (0 when unknown)
  std::string module;   // ELF file whose data it is (global only)
  bool has_thread = false;  // "stack"/"tls": whose it is is known
  uint32_t thread_uid = 0;  // T<uid> of that thread (0: the main thread)
  bool operator==(const MemoryLocation&) const = default;
};

// One edge of a lock-order cycle: a thread acquired `acquired` while holding `held`.
struct ReportLockEdge {
  uint64_t held = 0;       // lock address (mutex or rwlock)
  uint64_t acquired = 0;
  ReportAccess acquire;    // kind "lock", address `acquired`: the thread and the stack of that acquisition
  std::vector<SourceFrame> held_at;  // where the thread had acquired `held` (the call site only; may be empty)
  std::string held_symbol;      // the locks' global names when the symbol table has them, else ""
  std::string acquired_symbol;
  bool operator==(const ReportLockEdge&) const = default;
};

// Bug kinds besides "data-race" (all found by interception, not by sampling).
inline constexpr const char* kLockOrderInversionKind = "lock-order-inversion";
// pthread misuse kinds ("unlock-of-unlocked-mutex", "invalid-mutex", ...): one
// entry per MisuseKind, with what the renderers say about it.
struct MisuseKindInfo {
  uint32_t kind;           // MisuseKind
  const char* name;        // the report kind and SARIF rule racetrap/<name>
  const char* call;        // the offending call's Access kind: "lock", "unlock", "destroy", "wait", "init", "exit"
  const char* rule_name;   // SARIF rule name (CamelCase)
  const char* short_text;  // SARIF rule short description
  const char* full_text;   // SARIF rule full description
};
const MisuseKindInfo* misuse_kind_info(const std::string& kind);  // nullptr when no misuse kind
const char* misuse_kind_name(uint32_t misuse_kind);  // MisuseKind -> name ("pthread-misuse" if unknown)
bool is_misuse_kind(const std::string& kind);
// MisuseObject -> "mutex", "rwlock", "spin lock", "condition variable", "barrier",
// "semaphore", "annotated lock".
const char* misuse_object_name(uint32_t object);
// "EPERM" for an errno value, "0" for success, the number when unnamed.
std::string call_result_name(int32_t result);
// The words after "WARNING: racetrap: " and "SUMMARY: racetrap: ": "data race",
// "lock-order-inversion (potential deadlock)", or the misuse kind itself.
std::string kind_title(const std::string& kind);

struct RaceReport {
  std::string kind = "data-race";  // the bug kind (SARIF rule racetrap/<kind>)
  std::string fingerprint;         // 16 hex digits, stable across runs
  uint32_t pid = 0;                // process of the first run that saw it
  uint64_t count = 0;              // times this race was seen, all runs: its records plus
                                   // the repeats counted for its PC pair (RaceSeenRecord)
  uint64_t runs = 0;               // runs (processes) that saw it
  ReportAccess current;            // the access that hit the watchpoint
  ReportAccess previous;           // the earlier, sampled access
  MemoryLocation location;
  // Found by value-change sampling (RACETRAP_MODE=value-change): the bytes changed
  // from value_before to value_after while the `previous` (sampled) thread stalled
  // at its access. writer_known false: who wrote is not known; `current` has only
  // the written address and size (thread_uid kUnknownThreadUid, no stack).
  bool value_changed = false;
  bool writer_known = true;
  bool has_values = false;         // the current access wrote: values below are set
  uint32_t value_size = 0;         // bytes compared (1..8)
  uint64_t value_before = 0;       // at the watched address when sampled
  uint64_t value_after = 0;        // right after the conflicting access
  std::vector<ReportThread> threads;  // creation of each non-main thread involved
  std::string suppressed_by;       // the suppression rule that matched ("" if none)
  // kind "lock-order-inversion": the cycle's edges in order (each edge's
  // `acquired` is the next one's `held`, the last one's is the first one's);
  // `current` is a copy of the first edge's acquisition, `previous` is unused.
  std::vector<ReportLockEdge> cycle;
  bool cycle_truncated = false;    // the cycle was longer than the record holds
  // pthread misuse kinds: `current` is the offending call (kind "lock", "unlock",
  // "destroy" or "wait"; address is the mutex, size 0). `previous` is meaningful
  // only when has_previous (self-deadlock: where the thread acquired it before).
  bool has_previous = true;
  uint32_t owner_tid = 0;          // misuse: the thread holding the mutex per libc (0: none/unknown)
  std::string object = "mutex";    // misuse: what `current.address` is (misuse_object_name)
  bool has_result = false;         // misuse: `result` is what the offending call returned
  int32_t result = 0;              // 0 or an errno value
  uint64_t with_mutex = 0;         // cond-wait-with-two-mutexes: the mutex this thread waits with
  uint64_t other_mutex = 0;        // and the one another thread waits with at the same time
  uint32_t lock_count = 0;         // thread-exit-holding-lock: mutexes the thread still held
  bool operator==(const RaceReport&) const = default;
};

struct RunInfo {
  uint32_t pid = 0;
  std::string source;       // file it was read from ("" for the exiting process)
  bool truncated = false;   // the raw stream ended in a torn chunk
  bool operator==(const RunInfo&) const = default;
};

struct ReportModel {
  std::vector<RunInfo> runs;
  std::vector<RaceReport> races;       // reported, in rank order
  std::vector<RaceReport> suppressed;  // matched a suppression (suppressed_by set)
  // Run statistics as (name, value) in a fixed order; empty when unknown.
  std::vector<std::pair<std::string, uint64_t>> stats;
  bool operator==(const ReportModel&) const = default;
};

// One run's raw stream -> deduplicated, symbolized races in order of first
// appearance (each race's count: its records, plus the largest repeat total of
// the stream's RaceSeenRecords for the unordered PC pair of its first record;
// totals of pairs with no record are dropped), then its lock-order inversions (deduplicated by the set of lock
// addresses and acquisition sites) and pthread misuse (by kind and stack), all in
// `races` with their `kind`. `source` is recorded in RunInfo.
ReportModel build_report_model(const RawLog& log, Symbolizer& symbolizer,
                               const std::string& source = "");

// Many runs -> one model: races merged by fingerprint (counts and runs summed,
// the first occurrence's details kept), ranked by runs, then count, then first
// appearance; stats summed by name; suppressed merged the same way.
ReportModel merge_report_models(const std::vector<ReportModel>& models);

// The fingerprint of a race from its symbolic stacks (see top of file).
std::string race_fingerprint(const RaceReport& race);

// The innermost frame that says anything: "file:line:column in function" when it
// has a file, else "(module+0xoff) in function", else "(module+0xoff)"; the pc in
// hex when no frame says anything.
std::string access_summary(const ReportAccess& access);

// "file:line:column in function" (file basename) / "(module+0xoff) in function" /
// "0x..." for one frame: how a lock's acquisition site is shown.
std::string frame_summary(const SourceFrame& frame);

// "data race" or "data race (value changed)": the words after "WARNING: racetrap: ".
std::string race_title(const RaceReport& race);

// The access a data race's SUMMARY line names: the current one, or the sampled
// one when the writer of a value change is unknown.
const ReportAccess& summary_access(const RaceReport& race);

// "main thread (tid=N)" / "thread T2 'name' (tid=N)"; tid 0 leaves it out;
// "an unknown thread" for kUnknownThreadUid.
std::string thread_label(uint32_t uid, const std::string& name, uint32_t tid);

// The function name without its parameter list: "ns::f(int) const" -> "ns::f".
std::string function_base_name(const std::string& function);

// The one-line description of a pthread misuse report, naming the mutex as
// "M1 'symbol' (0x...)" (no trailing colon), e.g. "Unlock of mutex M1 (0x...),
// which is not locked, by main thread (tid=12)".
std::string misuse_description(const RaceReport& race);

// Total records behind a list of races.
uint64_t total_count(const std::vector<RaceReport>& races);

}  // namespace racetrap
