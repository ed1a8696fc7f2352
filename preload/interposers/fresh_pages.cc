// fresh_pages.cc — see fresh_pages.h.
// signal-safe.
#include "fresh_pages.h"

#include <sys/mman.h>

#include <atomic>
#include <cerrno>
#include <cstdint>

#include "registers_off.h"
#include "signal_safety.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14
#endif

namespace racetrap {
namespace {

constexpr uintptr_t kPage = 4096;
// mincore looks at the range's first pages only (its answer on the stack: 1 MiB).
constexpr size_t kProbePages = 256;
// Fresh pages (among those) that pay for switching one register off and on: an
// armed first touch costs ~1 us more, a DISABLE + ENABLE pair in place 10-12 us
// here (in zstd, 884 more ioctls a run cost about what 117 calls saved at a
// threshold of 8 pages for all registers).
constexpr unsigned kFreshPagesPerRegister = 16;

// Set when the kernel does not know MADV_POPULATE_WRITE (before 5.14): not tried again.
std::atomic<bool> populate_unsupported{false};

}  // namespace

void fault_in_fresh_destination(ThreadState* t, void* dst, size_t bytes) {
  if (populate_unsupported.load(std::memory_order_relaxed)) return;
  const uintptr_t begin = reinterpret_cast<uintptr_t>(dst) & ~(kPage - 1);
  const uintptr_t last = reinterpret_cast<uintptr_t>(dst) + bytes - 1;
  if (last < begin) return;  // wraps: the call itself will fault
  const uintptr_t end = (last & ~(kPage - 1)) + kPage;
  const size_t pages = (end - begin) / kPage;
  const size_t probe = pages < kProbePages ? pages : kProbePages;
  ErrnoKeeper keep;
  unsigned char resident[kProbePages];
  if (mincore(reinterpret_cast<void*>(begin), probe * kPage, resident) != 0) return;  // unmapped: the call faults
  unsigned fresh = 0;
  for (size_t i = 0; i < probe; ++i) fresh += (resident[i] & 1) == 0 ? 1 : 0;
  if (fresh < kFreshPagesPerRegister * armed_registers(*t)) return;
  RegistersOff off;
  if (!off.switch_off(t)) return;
  // A failure leaves the pages to the call's own writes (a read-only or partly
  // unmapped range faults there, as it would without racetrap).
  if (madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE) != 0 && errno == EINVAL)
    populate_unsupported.store(true, std::memory_order_relaxed);
  else
    runtime().stats.string_ops_faulted_in.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace racetrap
