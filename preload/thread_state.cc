// thread_state.cc — per-thread state: creation, binding to the thread, teardown.
#include "thread_state.h"

#include <dlfcn.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <new>

#include "stack_capture.h"

namespace racetrap {
namespace {

__attribute__((tls_model("initial-exec"))) thread_local ThreadState* tls_current = nullptr;

// glibc's size of the static TLS area (what sits below the thread pointer).
size_t static_tls_size() {
  static size_t size = [] {
    using Fn = void (*)(size_t*, size_t*);
    auto fn = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, "_dl_get_tls_static_info"));
    size_t s = 0, align = 0;
    if (fn) fn(&s, &align);
    return s ? s : size_t{4096};
  }();
  return size;
}

void record_address_ranges(ThreadState* t) {
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    void* addr = nullptr;
    size_t size = 0;
    if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
      t->stack.begin = reinterpret_cast<uint64_t>(addr);
      t->stack.end = t->stack.begin + size;
    }
    pthread_attr_destroy(&attr);
  }
  uint64_t tp = static_cast<uint64_t>(pthread_self());  // the thread pointer (fs base)
  t->tls.begin = tp - static_tls_size();
  t->tls.end = tp + 2048;  // the TCB (struct pthread head) follows the thread pointer
}

}  // namespace

ThreadState* current_thread() { return tls_current; }

ThreadState* create_thread_state(ThreadState* parent) {
  Runtime& rt = runtime();
  ThreadSlotLease lease = rt.registry.lease();
  if (!lease.ok) return nullptr;
  auto* t = new (std::nothrow) ThreadState;
  if (t == nullptr) {
    rt.registry.release(lease.slot, lease.first_epoch);
    return nullptr;
  }
  t->uid = lease.uid;
  t->slot = lease.slot;
  t->clock.reserve(kMaxThreadSlots);
  if (parent != nullptr) {
    t->clock.assign(parent->clock);
    parent->clock.tick(parent->slot);  // what the parent does next is not before the child
  }
  t->clock.set(t->slot, lease.first_epoch);
  uint64_t seed = rt.flags.seed != 0 ? static_cast<uint64_t>(rt.flags.seed) : monotonic_ns();
  t->random = Random(seed * 0x9e3779b97f4a7c15ull + t->uid + 1);
  t->record.uid = t->uid;
  t->record.parent_uid = parent != nullptr ? parent->uid : t->uid;
  return t;
}

void attach_thread_state(ThreadState* t) {
  Runtime& rt = runtime();
  t->os_tid = static_cast<uint32_t>(syscall(SYS_gettid));
  t->record.os_tid = t->os_tid;
  t->handle = pthread_self();
  record_address_ranges(t);
  tls_current = t;
  if (!rt.active) return;
  RuntimeScope scope;
  bool ok = true;
  for (int i = 0; i < rt.board.slots() && ok; ++i) ok = t->breakpoints[i].open(static_cast<unsigned>(i));
  if (ok) ok = t->sample_clock.open(static_cast<uint64_t>(rt.flags.sample_us));
  if (!ok) {
    for (auto& bp : t->breakpoints) bp.close();
    t->sample_clock.close();
    return;  // this thread runs unwatched; others still do
  }
  t->watching = true;
}

void detach_thread_state(ThreadState* t) {
  enter_runtime(t);
  t->sample_clock.close();
  for (auto& bp : t->breakpoints) bp.close();
  t->watching = false;
  tls_current = nullptr;
  leave_runtime(t);
}

void destroy_thread_state(ThreadState* t) {
  runtime().registry.release(t->slot, t->clock.get(t->slot));
  delete t;
}

}  // namespace racetrap
