// thread_state_pool.cc — finished threads' states kept for the next threads
// (thread_state_pool.h).
#include "thread_state_pool.h"

#include <atomic>
#include <new>

namespace racetrap {
namespace {

constexpr int kSpares = 2;

// Taken with a try: a thread that finds it busy allocates or frees as before, and a
// forked child whose other thread held it at the fork simply keeps nothing.
std::atomic<bool> busy{false};
ThreadState* spares[kSpares] = {};
int spare_count = 0;

bool try_lock() { return !busy.exchange(true, std::memory_order_acquire); }
void unlock() { busy.store(false, std::memory_order_release); }

}  // namespace

ThreadState* take_spare_thread_state() {
  if (!try_lock()) return nullptr;
  ThreadState* t = spare_count > 0 ? spares[--spare_count] : nullptr;
  unlock();
  return t;
}

void keep_or_free_thread_state(ThreadState* t) {
  // Made new here, outside the lock: the destructor and the constructor are the
  // finished thread's cost, not the next creation's.
  VectorClock storage;
  t->clock.move_storage_to(storage);
  t->~ThreadState();
  new (t) ThreadState;
  storage.move_storage_to(t->clock);
  if (try_lock()) {
    if (spare_count < kSpares) {
      spares[spare_count++] = t;
      unlock();
      return;
    }
    unlock();
  }
  delete t;
}

}  // namespace racetrap
