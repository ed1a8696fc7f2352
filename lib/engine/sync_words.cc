// sync_words.cc — see sync_words.h. signal-safe except configure().
#include "sync_words.h"

#include <sys/mman.h>

#include <cstring>

namespace racetrap {
namespace {

bool overlaps(uint64_t a, uint64_t a_len, uint64_t b, uint64_t b_len) { return a < b + b_len && b < a + a_len; }
uint64_t distance(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }

}  // namespace

void SyncWords::configure() {
  if (clocks_ != nullptr) return;
  const size_t bytes = sizeof(Epoch) * kMaxThreadSlots * kCapacity;
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  clocks_ = p == MAP_FAILED ? nullptr : static_cast<Epoch*>(p);
}

int SyncWords::learn(uint64_t address, uint32_t size, uint64_t pc, uint32_t how) {
  if (address == 0 || size == 0) return -1;
  if (size > 8) size = 8;
  const int known = find(address, size);
  if (known >= 0) {
    entries_[known].how.fetch_or(how, std::memory_order_relaxed);
    return known;
  }
  for (int i = 0; i < kCapacity; ++i) {
    Entry& e = entries_[i];
    uint64_t expected = 0;
    if (e.address.load(std::memory_order_relaxed) != 0) continue;
    e.size.store(size, std::memory_order_relaxed);
    e.pc.store(pc, std::memory_order_relaxed);
    e.how.store(how, std::memory_order_relaxed);
    if (!e.address.compare_exchange_strong(expected, address, std::memory_order_acq_rel)) continue;
    if (static_cast<uint32_t>(i) >= used_.load(std::memory_order_relaxed)) {
      uint32_t seen = used_.load(std::memory_order_relaxed);
      while (seen < static_cast<uint32_t>(i) + 1 &&
             !used_.compare_exchange_weak(seen, static_cast<uint32_t>(i) + 1, std::memory_order_acq_rel)) {
      }
    }
    return i;
  }
  return -1;
}

int SyncWords::find(uint64_t address, uint32_t size) const {
  const uint32_t used = used_.load(std::memory_order_acquire);
  for (uint32_t i = 0; i < used; ++i) {
    const uint64_t a = entries_[i].address.load(std::memory_order_acquire);
    if (a != 0 && overlaps(a, entries_[i].size.load(std::memory_order_relaxed), address, size ? size : 1))
      return static_cast<int>(i);
  }
  return -1;
}

int SyncWords::associate(uint64_t pc, uint64_t address) const {
  const uint32_t used = used_.load(std::memory_order_acquire);
  int below = -1, above = -1;
  uint64_t below_address = 0, above_address = ~0ull;
  for (uint32_t i = 0; i < used; ++i) {
    const Entry& e = entries_[i];
    const uint64_t a = e.address.load(std::memory_order_acquire);
    if (a == 0 || distance(a, address) > kNearAddress) continue;
    if ((e.how.load(std::memory_order_relaxed) & (kLearnedAtomic | kLearnedSpinWait)) == 0) continue;
    if (distance(e.pc.load(std::memory_order_relaxed), pc) > kNearPc) continue;
    if (a <= address && (below < 0 || a > below_address)) {
      below = static_cast<int>(i);
      below_address = a;
    } else if (a > address && a < above_address) {
      above = static_cast<int>(i);
      above_address = a;
    }
  }
  return below >= 0 ? below : above;
}

bool SyncWords::nearer(uint64_t candidate, uint64_t word, uint64_t address) {
  if (distance(candidate, address) > kNearAddress) return false;
  if (candidate <= address) return word > address || candidate > word;
  return word > address && candidate < word;
}

void SyncWords::release(int i, const VectorClock& clock) {
  Epoch* epochs = clock_of(i);
  if (epochs == nullptr) return;
  Entry& e = entries_[i];
  const uint32_t n = clock.size() < kMaxThreadSlots ? clock.size() : kMaxThreadSlots;
  SpinGuard guard(e.lock);
  join_epochs(epochs, clock.data(), n);
  if (n > e.clock_size.load(std::memory_order_relaxed)) e.clock_size.store(n, std::memory_order_release);
}

void SyncWords::acquire(int i, VectorClock& clock) {
  const Epoch* epochs = clock_of(i);
  if (epochs == nullptr) return;
  Entry& e = entries_[i];
  SpinGuard guard(e.lock);
  const uint32_t n = e.clock_size.load(std::memory_order_relaxed);
  if (n != 0) clock.join(epochs, n);
}

bool SyncWords::released_since(int i, uint32_t slot, Epoch epoch) const {
  const Epoch* epochs = clock_of(i);
  if (epochs == nullptr || slot >= entries_[i].clock_size.load(std::memory_order_acquire)) return false;
  return __atomic_load_n(&epochs[slot], __ATOMIC_RELAXED) >= epoch;
}

void SyncWords::forget_range(uint64_t address, uint64_t size) {
  const uint32_t used = used_.load(std::memory_order_acquire);
  for (uint32_t i = 0; i < used; ++i) {
    Entry& e = entries_[i];
    const uint64_t a = e.address.load(std::memory_order_acquire);
    if (a == 0 || !overlaps(a, e.size.load(std::memory_order_relaxed), address, size)) continue;
    if (Epoch* epochs = clock_of(static_cast<int>(i))) {
      SpinGuard guard(e.lock);
      std::memset(epochs, 0, sizeof(Epoch) * e.clock_size.load(std::memory_order_relaxed));
      e.clock_size.store(0, std::memory_order_release);
    }
    uint64_t expected = a;
    e.address.compare_exchange_strong(expected, 0, std::memory_order_acq_rel);
  }
}

void SyncWords::reset_after_fork() {
  for (int i = 0; i < kCapacity; ++i) {
    Entry& e = entries_[i];
    e.lock.reset();
    if (Epoch* epochs = clock_of(i)) std::memset(epochs, 0, sizeof(Epoch) * e.clock_size.load(std::memory_order_relaxed));
    e.clock_size.store(0, std::memory_order_relaxed);
  }
}

}  // namespace racetrap
