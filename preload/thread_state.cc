// thread_state.cc — per-thread state: creation, binding to the thread, teardown.
#include "thread_state.h"

#include <dlfcn.h>
#include <signal.h>
#include <sys/mman.h>
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

// Threads whose stack is smaller than this get a racetrap sigaltstack (when the
// program installed none) so the SIGTRAP handler never runs them out of stack.
constexpr size_t kSmallStack = 256 * 1024;
constexpr size_t kAltStackSize = 64 * 1024;
constexpr size_t kGuard = 4096;

void install_own_altstack(ThreadState* t) {
  if (t->stack.end - t->stack.begin >= kSmallStack) return;
  stack_t current;
  if (sigaltstack(nullptr, &current) != 0 || (current.ss_flags & SS_DISABLE) == 0) return;  // the program's
  void* mem = mmap(nullptr, kAltStackSize + kGuard, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
  if (mem == MAP_FAILED) return;
  mprotect(mem, kGuard, PROT_NONE);  // overflow faults instead of corrupting
  stack_t ss;
  ss.ss_sp = static_cast<char*>(mem) + kGuard;
  ss.ss_size = kAltStackSize;
  ss.ss_flags = 0;
  if (sigaltstack(&ss, nullptr) != 0) {
    munmap(mem, kAltStackSize + kGuard);
    return;
  }
  t->own_altstack = mem;
  t->own_altstack_size = kAltStackSize + kGuard;
}

void remove_own_altstack(ThreadState* t) {
  if (t->own_altstack == nullptr) return;
  stack_t current;
  if (sigaltstack(nullptr, &current) == 0 && current.ss_sp == static_cast<char*>(t->own_altstack) + kGuard) {
    if (current.ss_flags & SS_ONSTACK) return;  // cannot happen outside a handler: keep it rather than crash
    stack_t off;
    off.ss_sp = nullptr;
    off.ss_size = 0;
    off.ss_flags = SS_DISABLE;
    sigaltstack(&off, nullptr);
  }
  munmap(t->own_altstack, t->own_altstack_size);
  t->own_altstack = nullptr;
  t->own_altstack_size = 0;
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
  t->record = ThreadRecord{};  // zeroed: the name and creation stack are read from the raw stream
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
  install_own_altstack(t);
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
  remove_own_altstack(t);
  leave_runtime(t);
}

void destroy_thread_state(ThreadState* t) {
  runtime().registry.release(t->slot, t->clock.get(t->slot));
  delete t;
}

}  // namespace racetrap
