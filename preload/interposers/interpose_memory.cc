// interpose_memory.cc — the allocator runs as racetrap's own code (its internal
// locks are invisible to racetrap, so accesses inside it are never sampled or
// trapped on), and freed or unmapped memory retires any watch on it: an old object
// and a new one at the same address never race. A large block not yet in memory
// switches the thread's registers off while it faults it in (fault_burst.h).
// The real functions are the next definitions (glibc's, or a preloaded allocator's);
// while they are being looked up, requests are served from a small static arena.
#include <malloc.h>
#include <sys/mman.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fault_burst.h"
#include "real_function.h"
#include "thread_state.h"

namespace racetrap {
namespace {

using MallocFn = void* (*)(size_t);
using FreeFn = void (*)(void*);
using CallocFn = void* (*)(size_t, size_t);
using ReallocFn = void* (*)(void*, size_t);
using MemalignFn = void* (*)(size_t, size_t);
using PosixMemalignFn = int (*)(void**, size_t, size_t);
using UsableSizeFn = size_t (*)(void*);
using MunmapFn = int (*)(void*, size_t);

struct Allocator {
  MallocFn malloc = nullptr;
  FreeFn free = nullptr;
  CallocFn calloc = nullptr;
  ReallocFn realloc = nullptr;
  MemalignFn memalign = nullptr;
  MemalignFn aligned_alloc = nullptr;
  PosixMemalignFn posix_memalign = nullptr;
  UsableSizeFn usable_size = nullptr;
};

Allocator real;
std::atomic<int> resolve_state{0};  // 0 not yet, 1 resolving, 2 done

// Bump arena for what dlsym itself allocates while we resolve.
alignas(64) char early_arena[64 * 1024];
std::atomic<size_t> early_used{0};

bool from_early_arena(const void* p) {
  return p >= early_arena && p < early_arena + sizeof early_arena;
}

[[gnu::noinline]] void* early_alloc(size_t size, size_t align = 16) {
  size_t start, end;
  size_t used = early_used.load();
  do {
    start = (used + align - 1) & ~(align - 1);
    end = start + size;
    if (end > sizeof early_arena) return nullptr;
  } while (!early_used.compare_exchange_weak(used, end));
  return early_arena + start;
}

// The first calls: looks the real functions up, or says another thread is.
[[gnu::noinline]] bool resolve_first() {
  int expected = 0;
  if (resolve_state.compare_exchange_strong(expected, 1)) {
    real.malloc = next_function<MallocFn>("malloc");
    real.free = next_function<FreeFn>("free");
    real.calloc = next_function<CallocFn>("calloc");
    real.realloc = next_function<ReallocFn>("realloc");
    real.memalign = next_function<MemalignFn>("memalign");
    real.aligned_alloc = next_function<MemalignFn>("aligned_alloc");
    real.posix_memalign = next_function<PosixMemalignFn>("posix_memalign");
    real.usable_size = next_function<UsableSizeFn>("malloc_usable_size");
    resolve_state.store(2, std::memory_order_release);
    return true;
  }
  return false;  // this or another thread is inside the lookup: use the arena
}

// Whether the real functions can be called (every call after the first few: one
// load and a compare in line).
inline bool resolve() { return resolve_state.load(std::memory_order_acquire) == 2 || resolve_first(); }

// Keeps the allocator's own accesses out of sampling and trapping.
using AllocatorScope = RuntimeScope;

// Whether the calls need any of the above: not until the process watches its
// threads (its second thread), since before that no thread is sampled, no watch
// or learned word exists and no register is armed, so a single-threaded program's
// allocations go straight to the allocator (cc1plus made ~1% slower otherwise).
inline bool allocations_watched() { return threads_watched(); }

bool board_has_watches() {
  const WatchBoard& board = runtime().board;
  for (int i = 0; i < board.slots(); ++i)
    if (board.generation(i) != 0) return true;
  return false;
}

void retire_block(void* p) {
  if (p == nullptr || !runtime_active() || real.usable_size == nullptr) return;
  // A learned synchronization word in the block is data again once it is reused.
  SyncWords& words = runtime().sync_words;
  if (!words.empty()) words.forget_range(reinterpret_cast<uint64_t>(p), real.usable_size(p));
  if (!board_has_watches()) return;
  runtime().board.retire_range(reinterpret_cast<uint64_t>(p), real.usable_size(p));
}

// A block the allocator just gave the calling thread: a large one still to be
// faulted in switches the thread's registers off (fault_burst.h).
inline void* noted_block(void* p, size_t size) {
  if (size >= kFreshBlockBytes && p != nullptr) pause_for_fresh_block(current_thread(), p, size);
  return p;
}

// malloc and free once threads are watched, out of line: before that, and with
// RACETRAP_ENABLE=0, each call is a few tests and a jump to the allocator.
[[gnu::noinline]] void* watched_malloc(size_t size) {
  AllocatorScope scope;
  return noted_block(real.malloc(size), size);
}

[[gnu::noinline]] void watched_free(void* p) {
  AllocatorScope scope;
  retire_block(p);
  real.free(p);
}

}  // namespace

RACETRAP_INTERPOSE void* malloc(size_t size) {
  if (!resolve()) return early_alloc(size);
  if (!allocations_watched()) return real.malloc(size);
  return watched_malloc(size);
}

RACETRAP_INTERPOSE void free(void* p) {
  if (p == nullptr || from_early_arena(p)) return;
  if (!resolve()) return;  // cannot happen for a pointer the real allocator gave out
  if (!allocations_watched()) return real.free(p);
  watched_free(p);
}

RACETRAP_INTERPOSE void* calloc(size_t n, size_t size) {
  if (!resolve()) {
    if (size != 0 && n > SIZE_MAX / size) return nullptr;
    void* p = early_alloc(n * size);
    if (p) std::memset(p, 0, n * size);
    return p;
  }
  if (!allocations_watched()) return real.calloc(n, size);
  AllocatorScope scope;
  size_t bytes = 0;
  return noted_block(real.calloc(n, size), __builtin_mul_overflow(n, size, &bytes) ? 0 : bytes);
}

RACETRAP_INTERPOSE void* realloc(void* p, size_t size) {
  if (!resolve() || from_early_arena(p)) {
    void* fresh = resolve() ? malloc(size) : early_alloc(size);
    if (fresh && p) {
      size_t room = static_cast<size_t>(early_arena + sizeof early_arena - static_cast<char*>(p));
      std::memcpy(fresh, p, size < room ? size : room);
    }
    return fresh;
  }
  if (!allocations_watched()) return real.realloc(p, size);
  AllocatorScope scope;
  retire_block(p);
  return noted_block(real.realloc(p, size), size);
}

RACETRAP_INTERPOSE void* memalign(size_t align, size_t size) {
  if (!resolve()) return early_alloc(size, align);
  if (!allocations_watched()) return real.memalign(align, size);
  AllocatorScope scope;
  return noted_block(real.memalign(align, size), size);
}

RACETRAP_INTERPOSE void* aligned_alloc(size_t align, size_t size) {
  if (!resolve()) return early_alloc(size, align);
  if (!allocations_watched()) return real.aligned_alloc(align, size);
  AllocatorScope scope;
  return noted_block(real.aligned_alloc(align, size), size);
}

RACETRAP_INTERPOSE int posix_memalign(void** out, size_t align, size_t size) {
  if (!resolve()) {
    *out = early_alloc(size, align);
    return *out ? 0 : 12;  // ENOMEM
  }
  if (!allocations_watched()) return real.posix_memalign(out, align, size);
  AllocatorScope scope;
  const int rc = real.posix_memalign(out, align, size);
  if (rc == 0) noted_block(*out, size);
  return rc;
}

RACETRAP_INTERPOSE int munmap(void* addr, size_t length) {
  static auto real_munmap = next_function<MunmapFn>("munmap");
  if (runtime_active()) {
    runtime().board.retire_range(reinterpret_cast<uint64_t>(addr), length);
    runtime().sync_words.forget_range(reinterpret_cast<uint64_t>(addr), length);
  }
  return real_munmap(addr, length);
}

}  // namespace racetrap
