// thread_state.cc — per-thread state: creation, binding to the thread, teardown.
#include "thread_state.h"

#include <dlfcn.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <initializer_list>
#include <new>

#include "happens_before_edges.h"
#include "lock_snapshot_pool.h"
#include "owner_progress.h"
#include "stack_capture.h"
#include "thread_record_log.h"
#include "thread_state_pool.h"

// glibc: the stack pointer at process entry (the top of the main thread's frames).
extern "C" void* __libc_stack_end;

namespace racetrap {

constinit __attribute__((tls_model("initial-exec"))) thread_local ThreadState* tls_current = nullptr;

namespace {

struct StaticTlsInfo {
  size_t size = 0;   // glibc's static TLS area, thread descriptor included (0: unknown)
  size_t align = 0;
};

StaticTlsInfo static_tls_info() {
  static StaticTlsInfo info = [] {
    using Fn = void (*)(size_t*, size_t*);
    auto fn = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, "_dl_get_tls_static_info"));
    StaticTlsInfo i;
    if (fn) fn(&i.size, &i.align);
    return i;
  }();
  return info;
}

// glibc's size of the static TLS area (what sits below the thread pointer).
size_t static_tls_size() {
  size_t s = static_tls_info().size;
  return s ? s : size_t{4096};
}

// sizeof(struct pthread), which glibc exports for libthread_db; 0 when unknown.
size_t thread_descriptor_size() {
  static size_t size = [] {
    auto* p = static_cast<const uint32_t*>(dlsym(RTLD_DEFAULT, "_thread_db_sizeof_pthread"));
    return p != nullptr ? size_t{*p} : size_t{0};
  }();
  return size;
}

// Where glibc keeps a thread's kernel id in its descriptor (libthread_db's
// description: bit size, count, byte offset); -1 when glibc does not say.
long tid_offset() {
  static long offset = [] {
    auto* d = static_cast<const uint32_t*>(dlsym(RTLD_DEFAULT, "_thread_db_pthread_tid"));
    return d != nullptr && d[0] == 32 && d[1] == 1 ? static_cast<long>(d[2]) : -1L;
  }();
  return offset;
}

// The kernel id of the thread `handle`: glibc stored it in the descriptor at the
// clone, before pthread_create returned. 0 when glibc does not say where.
uint32_t tid_of(pthread_t handle) {
  const long offset = tid_offset();
  if (offset < 0) return 0;
  int tid = 0;
  std::memcpy(&tid, reinterpret_cast<const char*>(handle) + offset, sizeof tid);
  return tid > 0 ? static_cast<uint32_t>(tid) : 0;
}

// The calling thread's kernel id, from its descriptor (a system call less at every
// thread start).
uint32_t own_tid() {
  const uint32_t tid = tid_of(pthread_self());
  return tid != 0 ? tid : static_cast<uint32_t>(syscall(SYS_gettid));
}

// The thread `t` (the caller) stops needing its first-tick timer (its exit, or it
// cannot be watched): deleted here, or by its creator when that one is still
// making it (FirstTickHandoff).
void give_up_first_tick(ThreadState* t) {
  int expected = kByCreator;
  if (t->first_tick_handoff.compare_exchange_strong(expected, kGivenUp, std::memory_order_acq_rel)) return;
  t->first_tick.cancel();
}

// The exact static TLS block of the thread whose thread pointer is `tp`, for
// reports: glibc (x86-64, TCB at TP) puts the descriptor at tp and the TLS right
// below it, and starts the stack right below the TLS, so the sampler's generous
// t->tls would call the top of the stack TLS. [0, 0) when glibc does not say.
AddressRange exact_tls_range(uint64_t tp) {
  StaticTlsInfo info = static_tls_info();
  size_t descriptor = thread_descriptor_size();
  if (info.size == 0 || descriptor == 0) return {};
  size_t align = info.align != 0 ? info.align : 1;
  size_t rounded = (info.size + align - 1) / align * align;
  if (rounded <= descriptor) return {};
  return AddressRange{tp + descriptor - rounded, tp + descriptor};
}

// The thread's memory ranges into its record and into the runtime's copy (which
// the creator wrote before the thread ran; the main thread's is still empty).
void record_ranges_for_reports(ThreadState* t) {
  AddressRange tls = exact_tls_range(static_cast<uint64_t>(pthread_self()));
  ThreadRecord& r = t->record;
  r.stack_begin = t->stack.begin;
  r.stack_end = t->stack.end;
  r.tls_begin = tls.begin;
  r.tls_end = tls.end;
  if (t->slot >= kMaxThreadSlots) return;
  ThreadRecord& shared = runtime().thread_records[t->slot];
  if (shared.uid != t->uid) return;
  shared.os_tid = r.os_tid;
  shared.stack_begin = r.stack_begin;
  shared.stack_end = r.stack_end;
  shared.tls_begin = r.tls_begin;
  shared.tls_end = r.tls_end;
}

// The main thread's stack before the process has a second thread, without
// pthread_getattr_np (which reads /proc/self/maps for the main thread, ~80 us of
// every process's start): from the initial stack pointer up, and the stack limit
// down. What it is used for meanwhile (the lock interposers' stack snapshots)
// needs only the top; begin_watching records the exact range.
void approximate_main_stack(ThreadState* t) {
  const uint64_t top = (reinterpret_cast<uint64_t>(__libc_stack_end) + 4095) & ~uint64_t{4095};
  rlimit lim{};
  uint64_t size = 8u << 20;
  if (getrlimit(RLIMIT_STACK, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < top) size = lim.rlim_cur;
  t->stack.begin = top - size;
  t->stack.end = top;
}

// A thread's stack as glibc lays out the stacks it allocates and the ones a
// program supplies (x86-64): the thread descriptor at the top, the thread pointer
// at its start, the stack `t->stack_size` bytes (guard excluded) ending with the
// descriptor. Computed, because pthread_getattr_np allocates (a new thread's first
// malloc: a glibc arena set up before the program's code runs). False when glibc
// does not give the sizes, or the current stack pointer is not inside the result.
bool stack_from_layout(ThreadState* t, uint64_t tp) {
  const size_t descriptor = thread_descriptor_size();
  if (t->stack_size == 0 || descriptor == 0) return false;
  const uint64_t end = tp + descriptor;
  if (end < t->stack_size) return false;
  const uint64_t begin = (end - t->stack_size + 4095) & ~uint64_t{4095};
  const auto sp = reinterpret_cast<uint64_t>(__builtin_frame_address(0));
  if (sp < begin || sp >= end) return false;
  t->stack.begin = begin;
  t->stack.end = end;
  return true;
}

void record_address_ranges(ThreadState* t) {
  const auto tp = static_cast<uint64_t>(pthread_self());  // the thread pointer (fs base)
  pthread_attr_t attr;
  if (!stack_from_layout(t, tp) && pthread_getattr_np(pthread_self(), &attr) == 0) {
    void* addr = nullptr;
    size_t size = 0;
    if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
      t->stack.begin = reinterpret_cast<uint64_t>(addr);
      t->stack.end = t->stack.begin + size;
    }
    pthread_attr_destroy(&attr);
  }
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

ThreadState* create_thread_state(ThreadState* parent) {
  Runtime& rt = runtime();
  ThreadSlotLease lease = rt.registry.lease();
  if (!lease.ok) return nullptr;
  note_thread_slot_used(rt, lease.slot);
  ThreadState* t = take_spare_thread_state();  // a finished thread's, made new
  if (t == nullptr) {
    t = new (std::nothrow) ThreadState;
    if (t == nullptr) {
      rt.registry.release(lease.slot, lease.first_epoch);
      return nullptr;
    }
    t->clock.reserve(kMaxThreadSlots);
  }
  t->uid = lease.uid;
  t->slot = lease.slot;
  // What the parent does next is not before the child.
  create_edge(t->clock, t->slot, lease.first_epoch, parent != nullptr ? &parent->clock : nullptr,
              parent != nullptr ? parent->slot : 0);
  uint64_t seed = rt.flags.seed != 0 ? static_cast<uint64_t>(rt.flags.seed) : monotonic_ns();
  t->random = Random(seed * 0x9e3779b97f4a7c15ull + t->uid + 1);
  t->first_tick_us = 1 + t->random.below(static_cast<uint64_t>(rt.sample_us));
  t->record = ThreadRecord{};  // zeroed: the name and creation stack are read from the raw stream
  t->record.uid = t->uid;
  t->record.parent_uid = parent != nullptr ? parent->uid : t->uid;
  t->clock_root = parent == nullptr && rt.clock_policy == ClockPolicy::kPerf;  // a perf clock to pass on
  return t;
}


void attach_thread_state(ThreadState* t) {
  // Before the second thread (the main thread, at start-up) by a system call: the
  // descriptor's layout (tid_offset) is read from libc's read-only data, and that
  // one read made the kernel map 28 KiB of libc around it for the process's life.
  // begin_watching reads it in the second-thread set-up, whose pages of the
  // program's libraries are dropped after it; the threads' starts then use the copy.
  t->os_tid = threads_watched() ? own_tid() : static_cast<uint32_t>(syscall(SYS_gettid));
  t->record.os_tid = t->os_tid;
  t->handle = pthread_self();
  if (!threads_watched()) {
    // The main thread of a process that has no second thread yet: it cannot
    // race, so it is bound (the lock checks use its state) but not sampled;
    // begin_watching does the rest at the first pthread_create.
    approximate_main_stack(t);
    tls_current = t;
    return;
  }
  tls_current = t;
  begin_watching(t);
}

void begin_watching(ThreadState* t) {
  Runtime& rt = runtime();
  (void)tid_offset();  // cached here (see attach_thread_state)
  record_address_ranges(t);
  record_ranges_for_reports(t);
  if (!rt.active || !rt.watches_threads()) return;
  install_own_altstack(t);
  RuntimeScope scope;
  bool ok = true;
  for (int i = 0; i < rt.board.slots() && ok; ++i) ok = t->breakpoints[i].open(static_cast<unsigned>(i));
  // The sampling clock is opened by the thread's first tick (first_tick_timer.h):
  // a thread that never uses a sample period of CPU never pays for the perf event.
  // A thread that inherited its creator's clock has it already, ticking since its
  // clone. With RACETRAP_CLOCK=cpu-timer, and auto at the default period, the
  // timer is periodic and is the thread's clock (the perf clock only where the
  // timer cannot be armed); under auto the thread's samples may move it to a perf
  // clock of its own and back (clock_switch.h), measured from here: a new thread's
  // counters start at zero, and the main thread's count its life so far.
  // A new thread's timer is usually armed by its creator, right after the clone
  // (arm_first_tick_for): kByCreator or kArmed here leave it to that.
  const auto period_us = static_cast<uint64_t>(rt.sample_us);
  t->usage_at_sample = ThreadUsage{};
  // The fault pause (fault_burst.h) starts over too: a reused state keeps its last
  // thread's fault count, and maybe its pause.
  t->minor_faults_at_tick = 0;
  t->registers_paused = false;
  if (ok && !t->clock_inherited) {
    const int handoff = t->first_tick_handoff.load(std::memory_order_acquire);
    if (handoff == kSelf) {
      if (!t->first_tick.arm(period_us, t->os_tid, rt.starts_on_cpu_timer(), t->first_tick_us)) ok = open_sample_clock(t);
    } else if (handoff == kFailed) {
      ok = open_sample_clock(t);
    }
  }
  if (!ok) {
    for (auto& bp : t->breakpoints) bp.close();
    give_up_first_tick(t);
    t->sample_clock.close();
    return;  // this thread runs unwatched (an inherited clock's ticks are ignored); others still do
  }
  t->watching = true;
}

void fold_thread_counts(ThreadState* t) {
  const uint64_t copies = t->string_ops_plain;
  t->string_ops_plain = 0;
  if (copies != 0) runtime().stats.string_ops_plain.fetch_add(copies, std::memory_order_relaxed);
}

bool creator_arms_first_tick(ThreadState* child) {
  Runtime& rt = runtime();
  const bool by_creator = rt.active && rt.watches_threads() && threads_watched() && !child->clock_inherited &&
                          tid_offset() >= 0;
  child->first_tick_handoff.store(by_creator ? kByCreator : kSelf, std::memory_order_relaxed);
  return by_creator;
}

void arm_first_tick_for(ThreadState* child, pthread_t handle) {
  Runtime& rt = runtime();
  const uint32_t tid = tid_of(handle);
  clockid_t clock;
  const bool ok = tid != 0 && pthread_getcpuclockid(handle, &clock) == 0 &&
                  child->first_tick.arm_on(clock, static_cast<uint64_t>(rt.sample_us), tid, rt.starts_on_cpu_timer(),
                                           child->first_tick_us);
  int expected = kByCreator;
  if (child->first_tick_handoff.compare_exchange_strong(expected, ok ? kArmed : kFailed, std::memory_order_acq_rel))
    return;
  // The thread stopped being watched meanwhile (kGivenUp): the timer is this one's to delete.
  if (ok) child->first_tick.cancel();
}

void detach_thread_state(ThreadState* t) {
  enter_runtime(t);
  fold_thread_counts(t);
  // Not watched from here on: a first tick arriving meanwhile (on_first_tick) neither
  // samples nor opens a clock after the close.
  t->watching = false;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  give_up_first_tick(t);
  if (t->clock_passed_on) {
    // The threads that inherited this clock tick only while it is open.
    t->sample_clock.keep_open_for_inheritors();
    t->clock_passed_on = false;
  }
  t->sample_clock.close();
  for (auto& bp : t->breakpoints) bp.close();
  forget_release_watches(t->slot);  // no release of this thread's is to come
  tls_current = nullptr;
  remove_own_altstack(t);
  leave_runtime(t);
}

void retire_watches_on_thread_memory(const ThreadState* t) {
  Runtime& rt = runtime();
  if (!rt.active) return;
  // t->stack covers glibc's TLS and descriptor too; t->tls matters for a stack the
  // program supplied (pthread_attr_setstack) and costs nothing when it is inside.
  for (const AddressRange& r : {t->stack, t->tls})
    if (r.end > r.begin) {
      rt.board.retire_range(r.begin, r.end - r.begin);
      if (!rt.sync_words.empty()) rt.sync_words.forget_range(r.begin, r.end - r.begin);
    }
}

void destroy_thread_state(ThreadState* t) {
  runtime().registry.release(t->slot, t->clock.get(t->slot));
  return_lock_snapshots(t->pending_edges.snapshots());
  keep_or_free_thread_state(t);
}

}  // namespace racetrap
