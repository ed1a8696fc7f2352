// interpose_thread.cc — pthread_create/join/detach: each new thread gets its
// state before it runs (creation is a release by the parent, the child's start an
// acquire), and a join acquires the finished thread's clock.
#include "interpose_thread.h"

#include <pthread.h>

#include <atomic>
#include <new>
#include <unordered_map>

#include "arming.h"
#include "happens_before.h"
#include "happens_before_edges.h"
#include "lock_misuse.h"
#include "lock_tracking.h"
#include "missed_tick.h"
#include "real_function.h"
#include "spin_lock.h"
#include "stack_capture.h"
#include "sigtrap_mask.h"
#include "thread_state.h"

namespace racetrap {
namespace {

// A state is freed once all three happened: its thread exited, it was joined or
// detached, and its creator is done with it (the creator arms the new thread's
// timer after the clone, when the thread may have run, exited and been joined).
constexpr int kExited = 1, kDetached = 2, kCreatorDone = 4, kAllDone = kExited | kDetached | kCreatorDone;

// Joinable threads by handle, until joined.
SpinLock handles_lock;
std::unordered_map<pthread_t, ThreadState*>& handles() {
  static auto* map = new std::unordered_map<pthread_t, ThreadState*>;
  return *map;
}

ThreadState* take_handle(pthread_t th) {
  SpinGuard guard(handles_lock);
  auto it = handles().find(th);
  if (it == handles().end()) return nullptr;
  ThreadState* t = it->second;
  handles().erase(it);
  return t;
}

// Whoever comes last of the three (kAllDone) frees the state.
void mark(ThreadState* t, int bit) {
  int before = t->lifecycle.fetch_or(bit, std::memory_order_acq_rel);
  if ((before | bit) == kAllDone && before != kAllDone) destroy_thread_state(t);
}

void thread_exiting(void* p) {
  auto* t = static_cast<ThreadState*>(p);
  {
    RuntimeScope scope(t);
    add_pending_edges(t);  // the thread exits holding locks
  }
  retire_watches_on_thread_memory(t);
  detach_thread_state(t);
  mark(t, kExited);
}

pthread_key_t exit_key() {
  static pthread_key_t key = [] {
    pthread_key_t k;
    pthread_key_create(&k, thread_exiting);
    return k;
  }();
  return key;
}

// The new thread's start: what runs here before the program's code delays it
// against its creator, which natively it runs ahead of (two threads started one
// after the other take their first locks microseconds apart, an ABBA program
// then hangs): no allocation, no system call that can wait.
void* thread_start(void* p) {
  auto* state = static_cast<ThreadState*>(p);
  adopt_sigtrap_mask();  // the creator's view of SIGTRAP, inherited for real (see pthread_create)
  attach_thread_state(state);
  // The watches already on the board, armed now rather than at the thread's first
  // acquire, which may be a lock (inside the hold it starts). An empty board (a
  // program whose threads have not been sampled yet, or whose watches have all
  // expired) has nothing to arm: the version read first is noted as seen, so a
  // watch published meanwhile is armed at the thread's next sync.
  if (state->watching) {
    const WatchBoard& board = runtime().board;
    const uint64_t version = board.version();
    bool any = false;
    for (int i = 0; i < board.slots(); ++i) any |= board.generation(i) != 0;
    if (any) {
      RuntimeScope scope(state);
      sync_debug_registers(*state);
    } else {
      state->board_version_seen = version;
    }
  }
  pthread_setspecific(exit_key(), state);
  void* result = state->start_routine(state->start_arg);
  // The start routine returned: mutexes still held are reported at their
  // acquisition (pthread_exit is checked in its interposer, with its call site).
  if (ThreadState* t = watched_thread()) {
    RuntimeScope scope;
    if (t->held_locks.count() != 0 && lock_tracking_on(nullptr)) check_locks_at_thread_exit(t, 0);
  }
  return result;
}

// The default attributes' stack size, read from glibc once and again after the
// program changes the defaults (pthread_setattr_default_np below); 0: not read yet.
std::atomic<size_t> default_stack_size{0};

// The size of the stack pthread_create gives a thread created with `attr`
// (the default attributes' for nullptr); 0 when glibc does not say.
size_t stack_size_of(const pthread_attr_t* attr) {
  size_t size = 0;
  if (attr != nullptr) {
    pthread_attr_getstacksize(attr, &size);
    return size;
  }
  size = default_stack_size.load(std::memory_order_acquire);
  if (size != 0) return size;
  pthread_attr_t defaults;
  if (pthread_getattr_default_np(&defaults) != 0) return 0;
  pthread_attr_getstacksize(&defaults, &size);
  pthread_attr_destroy(&defaults);
  default_stack_size.store(size, std::memory_order_release);
  return size;
}

template <typename JoinFn, typename... Rest>
int join_and_acquire(JoinFn real, pthread_t th, Rest... rest) {
  ThreadState* self = runtime_active() ? current_thread() : nullptr;
  if (self == nullptr) return real(th, rest...);
  int rc;
  {
    RuntimeScope scope;
    rc = real(th, rest...);
  }
  if (rc != 0) return rc;
  RuntimeScope scope;
  if (ThreadState* child = take_handle(th)) {
    join_edge(self->clock, child->clock);
    mark(child, kDetached);  // joined: nobody else will look at it
    sync_debug_registers(*self);
  }
  mark_deferrable(self);  // the program's next access follows
  take_missed_tick_at_join(*self);
  return rc;
}

}  // namespace

void forget_other_threads_after_fork() {
  handles_lock.reset();
  // Another thread may have been inside the map when fork() copied it: start a
  // new one and leave the old memory alone (their states are leaked, as are the
  // threads themselves in the child).
  new (&handles()) std::unordered_map<pthread_t, ThreadState*>();
}

RACETRAP_INTERPOSE void pthread_exit(void* value) {
  static auto real = next_function<void (*)(void*)>("pthread_exit");
  void* ret = __builtin_return_address(0);
  if (ThreadState* t = watched_thread()) {
    RuntimeScope scope;
    if (t->held_locks.count() != 0 && lock_tracking_on(ret)) check_locks_at_thread_exit(t, reinterpret_cast<uint64_t>(ret));
  }
  real(value);
  __builtin_unreachable();
}

RACETRAP_INTERPOSE int pthread_create(pthread_t* thread, const pthread_attr_t* attr, void* (*fn)(void*), void* arg) {
  static auto real = next_function<int (*)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*)>("pthread_create");
  Runtime& rt = runtime();
  if (!rt.active) return real(thread, attr, fn, arg);
  watch_threads();  // the process's second thread: what start-up left for now (runtime.h)
  RuntimeScope scope;
  ThreadState* child = create_thread_state(scope.thread());
  if (child == nullptr) {  // out of slots: run it unwatched
    RealSigtrapBlock inherit_view;
    return real(thread, attr, fn, arg);
  }
  // The creation stack: a thread's first few with a cursor walk, later ones with
  // libunwind's frame cache (256 KiB set up in the creating thread at its first
  // use): a program that starts a handful of threads never pays that memory, one
  // that starts many pays it once and then a fraction of the time per thread.
  capture_current_stack_lazily(1, &child->record.creation);
  rt.thread_records[child->slot] = child->record;
  rt.thread_record_logged[child->slot].store(0, std::memory_order_release);
  int detach_state = PTHREAD_CREATE_JOINABLE;
  if (attr != nullptr) pthread_attr_getdetachstate(attr, &detach_state);
  child->lifecycle.store(detach_state == PTHREAD_CREATE_DETACHED ? kDetached : 0);
  exit_key();
  child->start_routine = fn;
  child->start_arg = arg;
  child->stack_size = stack_size_of(attr);
  if (rt.flags.detect_deadlocks) prepare_lock_tracking(child);  // here, not in the child's first lock
  ThreadState* self = scope.thread();
  int rc;
  bool creates_timer = false;
  {
    // The new thread inherits the program's view of SIGTRAP through the kernel
    // mask (thread_start adopts it; an unwatched thread keeps it blocked for real).
    RealSigtrapBlock inherit_view;
    // Whether the child starts with this thread's sampling clock (thread_state.h):
    // decided with the clock unable to open until the clone is done.
    if (self != nullptr) {
      self->creating_thread = 1;
      std::atomic_signal_fence(std::memory_order_seq_cst);
      child->clock_inherited = passes_clock_on(*self);
    }
    creates_timer = creator_arms_first_tick(child);
    rc = real(thread, attr, thread_start, child);
    if (self != nullptr) {
      std::atomic_signal_fence(std::memory_order_seq_cst);
      self->creating_thread = 0;
      std::atomic_signal_fence(std::memory_order_seq_cst);
      if (self->clock_open_deferred) {  // the first tick came during the clone
        self->clock_open_deferred = 0;
        if (!self->sample_clock.is_open()) open_sample_clock(self);
      }
    }
  }
  if (rc != 0) {
    destroy_thread_state(child);
    return rc;
  }
  // The new thread's first-tick timer, armed here while the thread starts: its two
  // system calls are not on its way to the program's code (on another CPU they run
  // while it starts; a thread that starts on this CPU after the call finds it done).
  if (creates_timer) arm_first_tick_for(child, *thread);
  if (detach_state != PTHREAD_CREATE_DETACHED) {
    SpinGuard guard(handles_lock);
    handles()[*thread] = child;
  }
  mark(child, kCreatorDone);  // the state is no longer this thread's to touch
  return rc;
}

// The program's new default attributes: the next thread created with none reads
// its stack size again.
RACETRAP_INTERPOSE int pthread_setattr_default_np(const pthread_attr_t* attr) {
  static auto real = next_function<int (*)(const pthread_attr_t*)>("pthread_setattr_default_np");
  const int rc = real(attr);
  default_stack_size.store(0, std::memory_order_release);
  return rc;
}

RACETRAP_INTERPOSE int pthread_join(pthread_t th, void** result) {
  static auto real = next_function<int (*)(pthread_t, void**)>("pthread_join");
  return join_and_acquire(real, th, result);
}

RACETRAP_INTERPOSE int pthread_tryjoin_np(pthread_t th, void** result) {
  static auto real = next_function<int (*)(pthread_t, void**)>("pthread_tryjoin_np");
  return join_and_acquire(real, th, result);
}

RACETRAP_INTERPOSE int pthread_timedjoin_np(pthread_t th, void** result, const struct timespec* abstime) {
  static auto real = next_function<int (*)(pthread_t, void**, const struct timespec*)>("pthread_timedjoin_np");
  return join_and_acquire(real, th, result, abstime);
}

RACETRAP_INTERPOSE int pthread_detach(pthread_t th) {
  static auto real = next_function<int (*)(pthread_t)>("pthread_detach");
  if (!runtime_active()) return real(th);
  RuntimeScope scope;
  ThreadState* child = take_handle(th);
  int rc = real(th);
  if (child != nullptr) mark(child, kDetached);
  return rc;
}

}  // namespace racetrap
