// breakpoint_hits.cc — see breakpoint_hits.h. signal-safe.
#include "breakpoint_hits.h"

namespace racetrap {
namespace {

constexpr uint64_t kLongestAccess = 64;  // bytes: an AVX-512 load or store

bool overlaps(uint64_t a, uint64_t a_len, uint64_t b, uint64_t b_len) { return a < b + b_len && b < a + a_len; }

}  // namespace

bool breakpoint_fires_on(const ArmedBreakpoint& r, const MemoryAccess& access) {
  if (r.length == 0 || access.size == 0) return false;
  if (!overlaps(r.address, r.length, access.address, access.size)) return false;
  return r.type == BreakpointType::kReadWrite || writes(access.kind);
}

bool breakpoint_may_share_hit(const ArmedBreakpoint& delivered, const ArmedBreakpoint& other) {
  if (delivered.length == 0 || other.length == 0) return false;
  const uint64_t reach = kLongestAccess - 1;
  const uint64_t begin = delivered.address > reach ? delivered.address - reach : 0;
  return overlaps(begin, delivered.address + delivered.length + reach - begin, other.address, other.length);
}

}  // namespace racetrap
