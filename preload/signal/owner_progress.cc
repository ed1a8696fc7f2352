// owner_progress.cc — see owner_progress.h. signal-safe throughout.
#include "owner_progress.h"

#include <atomic>

#include "vector_clock.h"
#include "watch_board.h"

namespace racetrap {
namespace {

// One cache line a thread slot: each thread writes only its own.
struct alignas(64) Progress {
  std::atomic<uint64_t> sequence{0};
  std::atomic<uint64_t> release_generation[kMaxWatchSlots] = {};
};
Progress owner_progress_table[kMaxThreadSlots];

Progress* at(uint32_t thread_slot) {
  return thread_slot < kMaxThreadSlots ? &owner_progress_table[thread_slot] : nullptr;
}

}  // namespace

void note_handler_entry(uint32_t thread_slot) {
  if (Progress* p = at(thread_slot)) p->sequence.fetch_add(1, std::memory_order_acq_rel);
}

void note_handler_exit(uint32_t thread_slot) {
  // Release: what the handler recorded (a word's release) is seen by whoever sees
  // the count.
  if (Progress* p = at(thread_slot)) p->sequence.fetch_add(1, std::memory_order_release);
}

uint64_t handler_sequence(uint32_t thread_slot) {
  const Progress* p = at(thread_slot);
  return p == nullptr ? 0 : p->sequence.load(std::memory_order_acquire);
}

void note_release_watch(uint32_t thread_slot, int board_slot, uint64_t generation) {
  Progress* p = at(thread_slot);
  if (p == nullptr || board_slot < 0 || board_slot >= kMaxWatchSlots) return;
  p->release_generation[board_slot].store(generation, std::memory_order_release);
}

void end_release_watch(uint32_t thread_slot, int board_slot, uint64_t generation) {
  Progress* p = at(thread_slot);
  if (p == nullptr || board_slot < 0 || board_slot >= kMaxWatchSlots || generation == 0) return;
  uint64_t expected = generation;
  p->release_generation[board_slot].compare_exchange_strong(expected, 0, std::memory_order_acq_rel);
}

uint64_t release_watch(uint32_t thread_slot, int board_slot) {
  const Progress* p = at(thread_slot);
  if (p == nullptr || board_slot < 0 || board_slot >= kMaxWatchSlots) return 0;
  return p->release_generation[board_slot].load(std::memory_order_acquire);
}

void forget_release_watches(uint32_t thread_slot) {
  Progress* p = at(thread_slot);
  if (p == nullptr) return;
  for (auto& g : p->release_generation) g.store(0, std::memory_order_release);
}

}  // namespace racetrap
