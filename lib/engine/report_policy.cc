// report_policy.cc — see report_policy.h. signal-safe.
#include "report_policy.h"

namespace racetrap {
namespace {

constexpr uint64_t kFirstPageEnd = 4096;
constexpr uint64_t kUserSpaceEnd = 0x800000000000ull;

// The qualified name of a demangled function: a template function starts with its
// return type ("void std::__atomic_impl::store<T>(...)"), so it is what follows the
// last space outside template arguments before the parameter list.
std::string_view qualified_name(std::string_view function) {
  size_t start = 0;
  int depth = 0;
  for (size_t i = 0; i < function.size(); ++i) {
    const char c = function[i];
    if (c == '<') ++depth;
    else if (c == '>' && depth > 0) --depth;
    else if (c == '(' && depth == 0) break;
    else if (c == ' ' && depth == 0) start = i + 1;
  }
  return function.substr(start);
}

bool ignored_by_annotation(bool access_writes, const AccessContext& c) {
  return access_writes ? c.ignore_writes > 0 : c.ignore_reads > 0;
}

bool declared_benign(uint64_t address, uint32_t size, const AccessContext& c) {
  return c.declared_benign != nullptr && c.declared_benign(address, size);
}

}  // namespace

bool could_be_shared(const MemoryAccess& a, const AccessContext& c) {
  if (a.stack_relative || a.segment_relative) return false;
  if (a.address < kFirstPageEnd || a.address >= kUserSpaceEnd) return false;
  if (c.stack.contains(a.address) || c.tls.contains(a.address)) return false;
  for (int i = 0; i < c.runtime_data_count; ++i)
    if (c.runtime_data[i].contains(a.address)) return false;
  return true;
}

bool sync_word_exempt(uint64_t address, uint32_t size, const AccessContext& c) {
  return !c.report_atomics && c.is_sync_word != nullptr && c.is_sync_word(address, size);
}

bool worth_watching(const MemoryAccess& a, const AccessContext& c) {
  if (a.atomic && !c.report_atomics) return false;
  if (!could_be_shared(a, c)) return false;
  if (sync_word_exempt(a.address, a.size, c)) return false;
  if (declared_benign(a.address, a.size, c)) return false;
  return !ignored_by_annotation(writes(a.kind), c);
}

bool annotations_silence(uint64_t watch_address, uint32_t watch_size, bool trap_writes, const AccessContext& c) {
  return declared_benign(watch_address, watch_size, c) || ignored_by_annotation(trap_writes, c);
}

bool atomics_exempt(bool trap_atomic, bool watch_atomic, bool report_atomics) {
  return (trap_atomic || watch_atomic) && !report_atomics;
}

bool is_std_atomic_function(std::string_view demangled_function) {
  const std::string_view name = qualified_name(demangled_function);
  for (std::string_view prefix : {"std::__atomic_impl::", "std::atomic<", "std::__atomic_base<", "std::atomic_ref<",
                                  "std::__atomic_ref<", "std::__atomic_float<"})
    if (name.starts_with(prefix)) return true;
  return false;
}

bool is_std_sync_object_function(std::string_view demangled_function) {
  const std::string_view name = qualified_name(demangled_function);
  for (std::string_view prefix : {"std::__tree_barrier<", "std::barrier<", "std::latch::", "std::__atomic_semaphore<",
                                  "std::counting_semaphore<", "std::__platform_semaphore::", "std::__detail::__waiter",
                                  "std::__detail::__atomic_wait", "std::__detail::__atomic_notify"})
    if (name.starts_with(prefix)) return true;
  return false;
}

}  // namespace racetrap
