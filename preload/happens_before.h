// happens_before.h — the release/acquire edges every interposer builds on.
// Ordinary context only (interposers), with the thread inside a RuntimeScope.
#pragma once

#include <cstdint>

#include "arming.h"
#include "thread_state.h"

namespace racetrap {

// The calling thread's state when racetrap watches it, else nullptr.
inline ThreadState* watched_thread() { return runtime_active() ? current_thread() : nullptr; }

inline uintptr_t sync_key(const void* object) { return reinterpret_cast<uintptr_t>(object); }

// Everything released into `object` so far happens-before what the thread does
// next; then the thread's debug registers are brought up to date.
inline void acquire(ThreadState* t, const void* object) {
  runtime().sync_clocks.acquire(sync_key(object), t->clock);
  sync_debug_registers(*t);
}

// What the thread did so far happens-before whoever acquires `object` later.
inline void release(ThreadState* t, const void* object) {
  runtime().sync_clocks.release(sync_key(object), t->clock);
  t->clock.tick(t->slot);
}

}  // namespace racetrap
