// benign_races.cc — see benign_races.h. Lock-free: atomics only.
#include "benign_races.h"

#include <atomic>

namespace racetrap {
namespace {

struct BenignRange {
  std::atomic<uint64_t> begin{0};
  std::atomic<uint64_t> end{0};
  std::atomic<bool> ready{false};
};
BenignRange benign_ranges[kMaxBenignRaces];
std::atomic<int> benign_count{0};

int benign_used() {
  const int n = benign_count.load(std::memory_order_acquire);
  return n < kMaxBenignRaces ? n : kMaxBenignRaces;
}

bool benign_exact(uint64_t begin, uint64_t end) {
  const int n = benign_used();
  for (int i = 0; i < n; ++i) {
    const BenignRange& r = benign_ranges[i];
    if (r.ready.load(std::memory_order_acquire) && r.begin.load(std::memory_order_relaxed) == begin &&
        r.end.load(std::memory_order_relaxed) == end)
      return true;
  }
  return false;
}

}  // namespace

bool is_benign_race_address(uint64_t addr, uint32_t size) {
  const int n = benign_used();
  if (n == 0) return false;
  const uint64_t end = addr + (size ? size : 1);
  for (int i = 0; i < n; ++i) {
    const BenignRange& r = benign_ranges[i];
    if (!r.ready.load(std::memory_order_acquire)) continue;
    if (addr < r.end.load(std::memory_order_relaxed) && r.begin.load(std::memory_order_relaxed) < end) return true;
  }
  return false;
}

bool add_benign_race(uint64_t addr, uint64_t size) {
  const uint64_t end = addr + (size ? size : 1);
  if (benign_exact(addr, end)) return true;
  const int i = benign_count.fetch_add(1, std::memory_order_acq_rel);
  if (i >= kMaxBenignRaces) {
    benign_count.store(kMaxBenignRaces, std::memory_order_release);
    return false;
  }
  BenignRange& r = benign_ranges[i];
  r.begin.store(addr, std::memory_order_relaxed);
  r.end.store(end, std::memory_order_relaxed);
  r.ready.store(true, std::memory_order_release);
  return true;
}

}  // namespace racetrap
