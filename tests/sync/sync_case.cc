// sync_case.cc — one program, every synchronization primitive racetrap models,
// each in a race-free form and a racy twin.
//
// usage: sync_case PRIMITIVE free|racy [SECONDS]
//
// Each round, a writer thread W and a reader thread R share `data`:
//   free: W writes data, then publishes through PRIMITIVE; R waits on PRIMITIVE,
//         then reads data. Only PRIMITIVE orders the write before the read.
//   racy: the same calls with the synchronization removed or misplaced (W
//         publishes before it writes, writes outside the lock, takes the read
//         side of a rwlock, ...): W's writes and R's reads are unordered.
// Rounds repeat for SECONDS. W and R live for the whole run (racetrap samples
// CPU time: short-lived threads would never be sampled); main starts each round
// and waits for its end through a mutex/condvar gate, so rounds are ordered among
// themselves and the per-round objects (made by main) are fresh. After the gate
// the two workers meet through a pair of pipes (read and write are not
// synchronization racetrap sees) before either touches `data`: without that, a
// worker woken late (a loaded machine, both workers on one core) took the gate's
// mutex only after the other had finished its round and released it, so the
// gate itself ordered the two rounds and a racy twin had no race to find.
//
// Primitives whose waiter can complete without any call racetrap sees (the
// libstdc++ futex-based ones: promise/future, latch, barrier,
// counting_semaphore, atomic wait) are tested on the path racetrap does see: W
// waits (through a LOCK-prefixed counter, invisible to racetrap and never
// reported) until R has announced it is about to block and /proc shows R asleep,
// so R is in FUTEX_WAIT when W publishes.
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <barrier>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <latch>
#include <mutex>
#include <semaphore>
#include <shared_mutex>
#include <string>
#include <thread>

#include "racetrap/annotations.h"

namespace {

constexpr int kWords = 1024;
// Passes over `data` per round: the racy twins run longer rounds, so the racing
// accesses overlap for several sampling periods and are found within a second.
int kPasses = 512;
long data[kWords];
bool racy = false;

double seconds_now() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

timespec deadline(clockid_t clock, int seconds) {
  timespec ts;
  clock_gettime(clock, &ts);
  ts.tv_sec += seconds;
  return ts;
}

// The shared accesses: the only lines a report may name.
__attribute__((noinline)) void write_data(long round) {
  for (int pass = 0; pass < kPasses; ++pass)
    for (int i = 0; i < kWords; ++i) data[i] = round * i + pass;  // RACE
  asm volatile("" ::: "memory");
}

__attribute__((noinline)) long read_data() {
  long sum = 0;
  for (int pass = 0; pass < kPasses; ++pass)
    for (int i = 0; i < kWords; ++i) sum += data[i] ^ pass;  // RACE
  asm volatile("" ::: "memory");
  return sum;
}

// --- the invisible "R is about to block" handshake (see the header) ---------
long reader_blocking;
long reader_tid;
void announce_blocking() {
  __atomic_exchange_n(&reader_tid, static_cast<long>(gettid()), __ATOMIC_SEQ_CST);
  __atomic_fetch_add(&reader_blocking, 1, __ATOMIC_SEQ_CST);
}
// True when thread `tid` of this process is asleep (state S in /proc).
bool thread_sleeping(long tid) {
  char path[64], buf[256];
  snprintf(path, sizeof path, "/proc/self/task/%ld/stat", tid);
  FILE* f = fopen(path, "r");
  if (f == nullptr) return false;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  const char* close = strrchr(buf, ')');
  return close != nullptr && close[1] == ' ' && close[2] == 'S';
}
void await_reader_blocked() {
  while (__atomic_fetch_add(&reader_blocking, 0, __ATOMIC_SEQ_CST) == 0) sched_yield();
  const long tid = __atomic_fetch_add(&reader_tid, 0, __ATOMIC_SEQ_CST);
  while (!thread_sleeping(tid)) usleep(50);
}

// One primitive: per-round setup/teardown, W's publish and R's wait.
// Default shapes: handoff (W: write, publish; R: wait, read; racy W: publish, write)
// and lock (both sides inside lock/unlock; racy W writes outside).
struct Case {
  const char* name;
  void (*setup)() = nullptr;
  void (*teardown)() = nullptr;
  void (*publish)() = nullptr;  // handoff: W side
  void (*wait)() = nullptr;     // handoff: R side
  void (*lock)() = nullptr;     // lock shape: both sides
  void (*unlock)() = nullptr;
  void (*read_lock)() = nullptr;  // lock shape, R side (default: lock)
  void (*read_unlock)() = nullptr;
  bool sleeping_reader = false;
  void (*writer)(long round) = nullptr;  // custom W body (replaces the shapes)
  long (*reader)() = nullptr;           // custom R body
};

// ---- pthread mutexes ----
pthread_mutex_t mtx;
void mutex_init_kind(int kind, bool robust = false) {
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_settype(&a, kind);
  if (robust) pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(&mtx, &a);
  pthread_mutexattr_destroy(&a);
}
void mutex_destroy() { pthread_mutex_destroy(&mtx); }
void mutex_lock() { pthread_mutex_lock(&mtx); }
void mutex_unlock() { pthread_mutex_unlock(&mtx); }
void mutex_trylock() {
  while (pthread_mutex_trylock(&mtx) != 0) sched_yield();
}
void mutex_timedlock() {
  timespec ts = deadline(CLOCK_REALTIME, 30);
  pthread_mutex_timedlock(&mtx, &ts);
}
void mutex_clocklock() {
  timespec ts = deadline(CLOCK_MONOTONIC, 30);
  pthread_mutex_clocklock(&mtx, CLOCK_MONOTONIC, &ts);
}
void recursive_lock() {
  pthread_mutex_lock(&mtx);
  pthread_mutex_lock(&mtx);
}
void recursive_unlock() {
  pthread_mutex_unlock(&mtx);
  pthread_mutex_unlock(&mtx);
}
void errorcheck_lock() {
  pthread_mutex_lock(&mtx);
  if (pthread_mutex_lock(&mtx) != EDEADLK) abort();  // relock: EDEADLK, no edge, still held
}
void* die_holding(void*) {
  pthread_mutex_lock(&mtx);
  return nullptr;  // exits with the robust mutex held
}
void robust_setup() {
  mutex_init_kind(PTHREAD_MUTEX_NORMAL, true);
  pthread_t t;
  pthread_create(&t, nullptr, die_holding, nullptr);
  pthread_join(t, nullptr);
}
void robust_lock() {
  int rc = pthread_mutex_lock(&mtx);
  if (rc == EOWNERDEAD) pthread_mutex_consistent(&mtx);
  else if (rc != 0) abort();
}

// ---- errorcheck unlock by a non-owner: EPERM must create no edge ----
// free: W writes under its own lock (normal shape). racy: W writes, then
// "unlocks" a mutex it does not hold (EPERM); R locks and reads.
void eperm_writer(long round) {
  if (!racy) mutex_lock();
  write_data(round);
  if (pthread_mutex_unlock(&mtx) != (racy ? EPERM : 0)) abort();
}
long eperm_reader() {
  mutex_lock();
  long s = read_data();
  mutex_unlock();
  return s;
}

// ---- condition variables ----
pthread_cond_t cond;
int ready;
void cond_setup() {
  pthread_mutex_init(&mtx, nullptr);
  pthread_cond_init(&cond, nullptr);
  ready = 0;
}
void cond_teardown() {
  pthread_cond_destroy(&cond);
  pthread_mutex_destroy(&mtx);
}
void cond_publish() {
  pthread_mutex_lock(&mtx);
  ready = 1;
  pthread_cond_signal(&cond);
  pthread_mutex_unlock(&mtx);
}
void cond_wait() {
  pthread_mutex_lock(&mtx);
  while (!ready) pthread_cond_wait(&cond, &mtx);
  pthread_mutex_unlock(&mtx);
}
void cond_clockwait() {
  pthread_mutex_lock(&mtx);
  timespec ts = deadline(CLOCK_MONOTONIC, 30);
  while (!ready) pthread_cond_clockwait(&cond, &mtx, CLOCK_MONOTONIC, &ts);
  pthread_mutex_unlock(&mtx);
}
void cond_timedwait() {
  pthread_mutex_lock(&mtx);
  timespec ts = deadline(CLOCK_REALTIME, 30);
  while (!ready) pthread_cond_timedwait(&cond, &mtx, &ts);
  pthread_mutex_unlock(&mtx);
}

// ---- rwlocks ----
pthread_rwlock_t rw;
void rw_setup() { pthread_rwlock_init(&rw, nullptr); }
void rw_teardown() { pthread_rwlock_destroy(&rw); }
void rw_unlock() { pthread_rwlock_unlock(&rw); }
void rw_wrlock() { pthread_rwlock_wrlock(&rw); }
void rw_rdlock() { pthread_rwlock_rdlock(&rw); }
void rw_trywrlock() {
  while (pthread_rwlock_trywrlock(&rw) != 0) sched_yield();
}
void rw_tryrdlock() {
  while (pthread_rwlock_tryrdlock(&rw) != 0) sched_yield();
}
void rw_timedwrlock() {
  timespec ts = deadline(CLOCK_REALTIME, 30);
  pthread_rwlock_timedwrlock(&rw, &ts);
}
void rw_timedrdlock() {
  timespec ts = deadline(CLOCK_REALTIME, 30);
  pthread_rwlock_timedrdlock(&rw, &ts);
}
void rw_clockwrlock() {
  timespec ts = deadline(CLOCK_MONOTONIC, 30);
  pthread_rwlock_clockwrlock(&rw, CLOCK_MONOTONIC, &ts);
}
void rw_clockrdlock() {
  timespec ts = deadline(CLOCK_MONOTONIC, 30);
  pthread_rwlock_clockrdlock(&rw, CLOCK_MONOTONIC, &ts);
}

// ---- spinlock, barrier, once ----
pthread_spinlock_t spin;
pthread_barrier_t barrier;
pthread_once_t once_control;
long once_round;
void once_init() { write_data(once_round); }

// ---- semaphores ----
sem_t sem;
sem_t* named_sem;
char named_sem_name[64];
void sem_setup() { sem_init(&sem, 0, 0); }
void sem_teardown() { sem_destroy(&sem); }
void sem_post_() { sem_post(&sem); }
void sem_trywait_() {
  while (sem_trywait(&sem) != 0) sched_yield();
}
void sem_timedwait_() {
  timespec ts = deadline(CLOCK_REALTIME, 30);
  while (sem_timedwait(&sem, &ts) != 0) {
  }
}
void sem_clockwait_() {
  timespec ts = deadline(CLOCK_MONOTONIC, 30);
  while (sem_clockwait(&sem, CLOCK_MONOTONIC, &ts) != 0) {
  }
}

// ---- raw futex ----
int futex_word;
void futex_publish() {
  __atomic_store_n(&futex_word, 1, __ATOMIC_SEQ_CST);  // xchg
  syscall(SYS_futex, &futex_word, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}
void futex_wait() {
  announce_blocking();
  while (__atomic_load_n(&futex_word, __ATOMIC_ACQUIRE) == 0)
    syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, nullptr, nullptr, 0);
}

// ---- C++ ----
std::mutex* std_mtx;
std::timed_mutex* std_tmtx;
std::recursive_mutex* std_rmtx;
std::shared_mutex* std_smtx;
std::shared_timed_mutex* std_stmtx;
std::condition_variable* std_cv;
std::condition_variable_any* std_cva;
std::once_flag* std_once;
std::promise<void>* std_promise;
std::future<void>* std_future;
std::latch* std_latch;
std::barrier<>* std_barrier;
std::counting_semaphore<16>* std_sem;
std::atomic<int>* std_atomic;
std::atomic<long>* std_atomic_long;

template <typename T, typename... A>
void make(T*& p, A... a) {
  p = new T(a...);
}
template <typename T>
void drop(T*& p) {
  delete p;
  p = nullptr;
}

void cxx_cv_setup() {
  make(std_mtx);
  make(std_cv);
  make(std_cva);
  ready = 0;
}
void cxx_cv_teardown() {
  drop(std_cva);
  drop(std_cv);
  drop(std_mtx);
}

// ---- annotations: a hand-written flag handoff and a hand-written rwlock ----
int hand_flag;
void hand_publish() {
  if (!racy) RACETRAP_HAPPENS_BEFORE(&hand_flag);
  __atomic_store_n(&hand_flag, 1, __ATOMIC_SEQ_CST);
}
void hand_wait() {
  while (__atomic_load_n(&hand_flag, __ATOMIC_ACQUIRE) == 0) sched_yield();
  if (!racy) RACETRAP_HAPPENS_AFTER(&hand_flag);
}
int hand_rw;  // -1 writer, n > 0 readers
void hand_wrlock() {
  int expected = 0;
  while (!__atomic_compare_exchange_n(&hand_rw, &expected, -1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
    expected = 0;
    sched_yield();
  }
  if (!racy) RACETRAP_RWLOCK_ACQUIRED(&hand_rw, 1);
}
void hand_wrunlock() {
  if (!racy) RACETRAP_RWLOCK_RELEASED(&hand_rw, 1);
  __atomic_store_n(&hand_rw, 0, __ATOMIC_SEQ_CST);
}
void hand_rdlock() {
  for (;;) {
    int v = __atomic_load_n(&hand_rw, __ATOMIC_RELAXED);
    if (v >= 0 && __atomic_compare_exchange_n(&hand_rw, &v, v + 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) break;
    sched_yield();
  }
  if (!racy) RACETRAP_RWLOCK_ACQUIRED(&hand_rw, 0);
}
void hand_rdunlock() {
  if (!racy) RACETRAP_RWLOCK_RELEASED(&hand_rw, 0);
  __atomic_fetch_sub(&hand_rw, 1, __ATOMIC_RELEASE);
}

// Memory handed back and out again by a hand-written allocator (one block,
// passed through an atomic pointer: invisible). W writes the block and frees it;
// R allocates it and writes it as a new object.
long* block_storage;
long* free_slot;
void new_memory_writer(long round) {
  long* b = block_storage;
  for (int pass = 0; pass < kPasses; ++pass)
    for (int i = 0; i < kWords; ++i) b[i] = round + i;  // RACE
  __atomic_store_n(&free_slot, b, __ATOMIC_SEQ_CST);
}
long new_memory_reader() {
  long* b;
  while ((b = __atomic_exchange_n(&free_slot, nullptr, __ATOMIC_SEQ_CST)) == nullptr) sched_yield();
  if (!racy) RACETRAP_NEW_MEMORY(b, kWords * sizeof(long));
  for (int pass = 0; pass < kPasses; ++pass)
    for (int i = 0; i < kWords; ++i) b[i] = pass - i;  // RACE
  return b[3];
}

// Benign races and ignored accesses (no synchronization at all).
void benign_setup() {
  if (!racy) RACETRAP_BENIGN_RACE(data, sizeof data, "statistics, approximate is fine");
}
void ignore_writer(long round) {
  if (!racy) RACETRAP_IGNORE_WRITES_BEGIN();
  write_data(round);
  if (!racy) RACETRAP_IGNORE_WRITES_END();
}
long ignore_reader() {
  if (!racy) RACETRAP_IGNORE_READS_BEGIN();
  long s = read_data();
  if (!racy) RACETRAP_IGNORE_READS_END();
  return s;
}
void unsynchronized_writer(long round) { write_data(round); }
long unsynchronized_reader() { return read_data(); }

// Atomics: W's LOCK-prefixed read-modify-writes against R's plain stores.
// Not reported by default; reported (as atomic) with RACETRAP_REPORT_ATOMICS=1.
void atomic_writer(long) {
  for (int pass = 0; pass < kPasses; ++pass)
    for (int i = 0; i < kWords; ++i) __atomic_fetch_add(&data[i], 1, __ATOMIC_RELAXED);  // RACE
}
long atomic_reader() {
  for (int pass = 0; pass < kPasses; ++pass)
    for (int i = 0; i < kWords; ++i) *(volatile long*)&data[i] = pass;  // RACE
  return 0;
}

// std::async: the task writes; R runs the task and reads after get()
// (racy: R reads before get()).
long async_reader() {
  long round = once_round;
  // The task runs several sampling periods, so its own ticks arm R's watches.
  auto f = std::async(std::launch::async, [round] { for (int k = 0; k < 4; ++k) write_data(round + k); });
  long s = 0;
  if (racy) for (int k = 0; k < 3; ++k) s += read_data();
  f.get();
  if (!racy) s = read_data();
  return s;
}
// std::jthread: R starts a jthread that writes; its destructor joins.
long jthread_reader() {
  long round = once_round;
  long s = 0;
  {
    std::jthread j([round] { for (int k = 0; k < 4; ++k) write_data(round + k); });
    if (racy) for (int k = 0; k < 3; ++k) s += read_data();
  }
  if (!racy) s = read_data();
  return s;
}
void nothing_writer(long) {}

const Case kCases[] = {
    // pthread mutexes
    {.name = "mutex", .setup = [] { mutex_init_kind(PTHREAD_MUTEX_NORMAL); }, .teardown = mutex_destroy,
     .lock = mutex_lock, .unlock = mutex_unlock},
    {.name = "mutex_trylock", .setup = [] { mutex_init_kind(PTHREAD_MUTEX_NORMAL); }, .teardown = mutex_destroy,
     .lock = mutex_trylock, .unlock = mutex_unlock},
    {.name = "mutex_timedlock", .setup = [] { mutex_init_kind(PTHREAD_MUTEX_NORMAL); }, .teardown = mutex_destroy,
     .lock = mutex_timedlock, .unlock = mutex_unlock},
    {.name = "mutex_clocklock", .setup = [] { mutex_init_kind(PTHREAD_MUTEX_NORMAL); }, .teardown = mutex_destroy,
     .lock = mutex_clocklock, .unlock = mutex_unlock},
    {.name = "mutex_recursive", .setup = [] { mutex_init_kind(PTHREAD_MUTEX_RECURSIVE); },
     .teardown = mutex_destroy, .lock = recursive_lock, .unlock = recursive_unlock},
    {.name = "mutex_errorcheck", .setup = [] { mutex_init_kind(PTHREAD_MUTEX_ERRORCHECK); },
     .teardown = mutex_destroy, .lock = errorcheck_lock, .unlock = mutex_unlock},
    {.name = "mutex_errorcheck_eperm", .setup = [] { mutex_init_kind(PTHREAD_MUTEX_ERRORCHECK); },
     .teardown = mutex_destroy, .writer = eperm_writer, .reader = eperm_reader},
    {.name = "mutex_robust", .setup = robust_setup, .teardown = mutex_destroy, .lock = robust_lock,
     .unlock = mutex_unlock},
    // condition variables
    {.name = "cond_wait", .setup = cond_setup, .teardown = cond_teardown, .publish = cond_publish,
     .wait = cond_wait},
    {.name = "cond_timedwait", .setup = cond_setup, .teardown = cond_teardown, .publish = cond_publish,
     .wait = cond_timedwait},
    {.name = "cond_clockwait", .setup = cond_setup, .teardown = cond_teardown, .publish = cond_publish,
     .wait = cond_clockwait},
    // rwlocks (racy: the writer takes the read side)
    {.name = "rwlock", .setup = rw_setup, .teardown = rw_teardown, .lock = rw_wrlock, .unlock = rw_unlock,
     .read_lock = rw_rdlock, .read_unlock = rw_unlock},
    {.name = "rwlock_try", .setup = rw_setup, .teardown = rw_teardown, .lock = rw_trywrlock, .unlock = rw_unlock,
     .read_lock = rw_tryrdlock, .read_unlock = rw_unlock},
    {.name = "rwlock_timed", .setup = rw_setup, .teardown = rw_teardown, .lock = rw_timedwrlock,
     .unlock = rw_unlock, .read_lock = rw_timedrdlock, .read_unlock = rw_unlock},
    {.name = "rwlock_clock", .setup = rw_setup, .teardown = rw_teardown, .lock = rw_clockwrlock,
     .unlock = rw_unlock, .read_lock = rw_clockrdlock, .read_unlock = rw_unlock},
    // spinlock, barrier, once
    {.name = "spinlock", .setup = [] { pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE); },
     .teardown = [] { pthread_spin_destroy(&spin); }, .lock = [] { pthread_spin_lock(&spin); },
     .unlock = [] { pthread_spin_unlock(&spin); }},
    {.name = "spinlock_try", .setup = [] { pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE); },
     .teardown = [] { pthread_spin_destroy(&spin); },
     .lock = [] { while (pthread_spin_trylock(&spin) != 0) sched_yield(); },
     .unlock = [] { pthread_spin_unlock(&spin); }},
    {.name = "barrier", .setup = [] { pthread_barrier_init(&barrier, nullptr, 2); },
     .teardown = [] { pthread_barrier_destroy(&barrier); }, .publish = [] { pthread_barrier_wait(&barrier); },
     .wait = [] { pthread_barrier_wait(&barrier); }},
    {.name = "pthread_once", .setup = [] { once_control = PTHREAD_ONCE_INIT; },
     .writer = [](long round) { once_round = round; pthread_once(&once_control, once_init); },
     .reader = [] {
       if (!racy) pthread_once(&once_control, once_init);
       return read_data();
     }},
    // semaphores
    {.name = "sem_wait", .setup = sem_setup, .teardown = sem_teardown, .publish = sem_post_,
     .wait = [] { while (sem_wait(&sem) != 0) {} }},
    {.name = "sem_trywait", .setup = sem_setup, .teardown = sem_teardown, .publish = sem_post_,
     .wait = sem_trywait_},
    {.name = "sem_timedwait", .setup = sem_setup, .teardown = sem_teardown, .publish = sem_post_,
     .wait = sem_timedwait_},
    {.name = "sem_clockwait", .setup = sem_setup, .teardown = sem_teardown, .publish = sem_post_,
     .wait = sem_clockwait_},
    {.name = "sem_named",
     .setup = [] {
       snprintf(named_sem_name, sizeof named_sem_name, "/racetrap-sync-%d", (int)getpid());
       named_sem = sem_open(named_sem_name, O_CREAT | O_EXCL, 0600, 0);
       if (named_sem == SEM_FAILED) abort();
       sem_unlink(named_sem_name);
     },
     .teardown = [] { sem_close(named_sem); }, .publish = [] { sem_post(named_sem); },
     .wait = [] {
       // a second open of the same name yields the same mapping
       while (sem_wait(named_sem) != 0) {}
     }},
    // raw futex through syscall()
    {.name = "futex", .setup = [] { futex_word = 0; }, .publish = futex_publish, .wait = futex_wait,
     .sleeping_reader = true},
    // C++ standard library
    {.name = "std_mutex", .setup = [] { make(std_mtx); }, .teardown = [] { drop(std_mtx); },
     .lock = [] { std_mtx->lock(); }, .unlock = [] { std_mtx->unlock(); }},
    {.name = "std_timed_mutex", .setup = [] { make(std_tmtx); }, .teardown = [] { drop(std_tmtx); },
     .lock = [] { while (!std_tmtx->try_lock_for(std::chrono::seconds(30))) {} },
     .unlock = [] { std_tmtx->unlock(); }},
    {.name = "std_recursive_mutex", .setup = [] { make(std_rmtx); }, .teardown = [] { drop(std_rmtx); },
     .lock = [] { std_rmtx->lock(); std_rmtx->lock(); },
     .unlock = [] { std_rmtx->unlock(); std_rmtx->unlock(); }},
    {.name = "std_shared_mutex", .setup = [] { make(std_smtx); }, .teardown = [] { drop(std_smtx); },
     .lock = [] { std_smtx->lock(); }, .unlock = [] { std_smtx->unlock(); },
     .read_lock = [] { std_smtx->lock_shared(); }, .read_unlock = [] { std_smtx->unlock_shared(); }},
    {.name = "std_shared_timed_mutex", .setup = [] { make(std_stmtx); }, .teardown = [] { drop(std_stmtx); },
     .lock = [] { while (!std_stmtx->try_lock_for(std::chrono::seconds(30))) {} },
     .unlock = [] { std_stmtx->unlock(); },
     .read_lock = [] { while (!std_stmtx->try_lock_shared_for(std::chrono::seconds(30))) {} },
     .read_unlock = [] { std_stmtx->unlock_shared(); }},
    {.name = "std_condition_variable", .setup = cxx_cv_setup, .teardown = cxx_cv_teardown,
     .publish = [] { std::lock_guard g(*std_mtx); ready = 1; std_cv->notify_one(); },
     .wait = [] { std::unique_lock g(*std_mtx); std_cv->wait(g, [] { return ready != 0; }); }},
    {.name = "std_condition_variable_wait_for", .setup = cxx_cv_setup, .teardown = cxx_cv_teardown,
     .publish = [] { std::lock_guard g(*std_mtx); ready = 1; std_cv->notify_all(); },
     .wait = [] {
       std::unique_lock g(*std_mtx);
       while (!ready) std_cv->wait_for(g, std::chrono::seconds(30));
     }},
    {.name = "std_condition_variable_any", .setup = cxx_cv_setup, .teardown = cxx_cv_teardown,
     .publish = [] { std::lock_guard g(*std_mtx); ready = 1; std_cva->notify_one(); },
     .wait = [] { std::unique_lock g(*std_mtx); std_cva->wait(g, [] { return ready != 0; }); }},
    {.name = "std_call_once", .setup = [] { make(std_once); }, .teardown = [] { drop(std_once); },
     .writer = [](long round) { std::call_once(*std_once, [round] { write_data(round); }); },
     .reader = [] {
       if (!racy) std::call_once(*std_once, [] { write_data(-1); });
       return read_data();
     }},
    {.name = "std_async", .writer = nothing_writer, .reader = async_reader},
    {.name = "std_jthread", .writer = nothing_writer, .reader = jthread_reader},
    {.name = "std_promise",
     .setup = [] { make(std_promise); std_future = new std::future<void>(std_promise->get_future()); },
     .teardown = [] { drop(std_future); drop(std_promise); }, .publish = [] { std_promise->set_value(); },
     .wait = [] { announce_blocking(); std_future->get(); }, .sleeping_reader = true},
    {.name = "std_latch", .setup = [] { make(std_latch, 1); }, .teardown = [] { drop(std_latch); },
     .publish = [] { std_latch->count_down(); }, .wait = [] { announce_blocking(); std_latch->wait(); },
     .sleeping_reader = true},
    {.name = "std_barrier", .setup = [] { make(std_barrier, 2); }, .teardown = [] { drop(std_barrier); },
     .publish = [] { std_barrier->arrive_and_wait(); },
     .wait = [] { announce_blocking(); std_barrier->arrive_and_wait(); }, .sleeping_reader = true},
    {.name = "std_counting_semaphore", .setup = [] { make(std_sem, 0); }, .teardown = [] { drop(std_sem); },
     .publish = [] { std_sem->release(); }, .wait = [] { announce_blocking(); std_sem->acquire(); },
     .sleeping_reader = true},
    {.name = "std_atomic_wait", .setup = [] { make(std_atomic, 0); }, .teardown = [] { drop(std_atomic); },
     .publish = [] { std_atomic->store(1); std_atomic->notify_one(); },
     .wait = [] { announce_blocking(); std_atomic->wait(0); }, .sleeping_reader = true},
    {.name = "std_atomic_wait_long", .setup = [] { make(std_atomic_long, 0); },
     .teardown = [] { drop(std_atomic_long); },
     .publish = [] { std_atomic_long->store(1); std_atomic_long->notify_all(); },
     .wait = [] { announce_blocking(); std_atomic_long->wait(0); }, .sleeping_reader = true},
    // dynamic annotations (racy: the same code without them)
    {.name = "annotate_happens_before", .setup = [] { hand_flag = 0; }, .publish = hand_publish,
     .wait = hand_wait},
    {.name = "annotate_rwlock", .setup = [] { hand_rw = 0; if (!racy) RACETRAP_RWLOCK_CREATE(&hand_rw); },
     .lock = hand_wrlock, .unlock = hand_wrunlock, .read_lock = hand_rdlock, .read_unlock = hand_rdunlock},
    {.name = "annotate_new_memory", .setup = [] { free_slot = nullptr; }, .writer = new_memory_writer,
     .reader = new_memory_reader},
    {.name = "annotate_benign_race", .setup = benign_setup, .writer = unsynchronized_writer,
     .reader = unsynchronized_reader},
    {.name = "annotate_ignore", .writer = ignore_writer, .reader = ignore_reader},
    // atomics: run "free" at default flags, "racy" with RACETRAP_REPORT_ATOMICS=1
    {.name = "atomic_rmw", .writer = atomic_writer, .reader = atomic_reader},
};

const Case* the_case;
long round_number;

void writer_round() {
  const Case& c = *the_case;
  if (c.writer != nullptr) {
    c.writer(round_number);
  } else if (c.publish != nullptr) {
    if (!racy) write_data(round_number);
    if (c.sleeping_reader) await_reader_blocked();
    c.publish();
    if (racy) write_data(round_number);
  } else {
    if (!racy) c.lock();
    // racy rwlock: the writer takes the read side
    if (racy && c.read_lock != nullptr) c.read_lock();
    write_data(round_number);
    if (racy && c.read_lock != nullptr) c.read_unlock();
    if (!racy) c.unlock();
  }
}

long reader_round() {
  const Case& c = *the_case;
  long sum;
  if (c.reader != nullptr) {
    sum = c.reader();
  } else if (c.wait != nullptr) {
    c.wait();
    sum = read_data();
  } else {
    (c.read_lock ? c.read_lock : c.lock)();
    sum = read_data();
    (c.read_unlock ? c.read_unlock : c.unlock)();
  }
  return sum;
}

// The round gate (a mutex and two condition variables, which racetrap models).
pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t gate_open = PTHREAD_COND_INITIALIZER, gate_done = PTHREAD_COND_INITIALIZER;
long gate_round;
int gate_finished;
bool gate_stop;

// The meeting after the gate: each worker writes a byte to the other's pipe and
// reads one from its own, so neither starts a round before both have taken the
// gate's mutex for it.
int to_writer[2], to_reader[2];
void meet_other_worker(bool writer) {
  char byte = 0;
  if (write((writer ? to_reader : to_writer)[1], &byte, 1) != 1 ||
      read((writer ? to_writer : to_reader)[0], &byte, 1) != 1) {
    perror("sync_case: worker meeting pipe");
    abort();
  }
}

void* worker_main(void* role) {
  long seen = 0, sum = 0;
  for (;;) {
    pthread_mutex_lock(&gate);
    while (gate_round == seen && !gate_stop) pthread_cond_wait(&gate_open, &gate);
    const bool stop = gate_stop;
    seen = gate_round;
    pthread_mutex_unlock(&gate);
    if (stop) break;
    meet_other_worker(role != nullptr);
    if (role != nullptr) writer_round();
    else sum += reader_round();
    pthread_mutex_lock(&gate);
    if (++gate_finished == 2) pthread_cond_signal(&gate_done);
    pthread_mutex_unlock(&gate);
  }
  return reinterpret_cast<void*>(sum);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s PRIMITIVE free|racy [SECONDS]\n", argv[0]);
    return 2;
  }
  for (const Case& c : kCases)
    if (strcmp(c.name, argv[1]) == 0) the_case = &c;
  if (the_case == nullptr) {
    fprintf(stderr, "unknown primitive %s\n", argv[1]);
    return 2;
  }
  racy = strcmp(argv[2], "racy") == 0;
  if (racy) kPasses = 2048;
  const double seconds = argc > 3 ? atof(argv[3]) : 1.0;
  block_storage = static_cast<long*>(malloc(kWords * sizeof(long)));
  if (pipe(to_writer) != 0 || pipe(to_reader) != 0) {
    perror("sync_case: pipe");
    return 2;
  }
  pthread_t w, r;
  static int writer_role;  // any non-null argument makes the worker the writer
  pthread_create(&r, nullptr, worker_main, nullptr);
  pthread_create(&w, nullptr, worker_main, &writer_role);
  const double end = seconds_now() + seconds;
  long rounds = 0;
  while (seconds_now() < end) {
    round_number = ++rounds;
    once_round = rounds;
    reader_blocking = 0;
    if (the_case->setup) the_case->setup();
    pthread_mutex_lock(&gate);
    gate_finished = 0;
    ++gate_round;
    pthread_cond_broadcast(&gate_open);
    while (gate_finished < 2) pthread_cond_wait(&gate_done, &gate);
    pthread_mutex_unlock(&gate);
    if (the_case->teardown) the_case->teardown();
  }
  pthread_mutex_lock(&gate);
  gate_stop = true;
  pthread_cond_broadcast(&gate_open);
  pthread_mutex_unlock(&gate);
  pthread_join(w, nullptr);
  pthread_join(r, nullptr);
  free(block_storage);
  printf("%s %s: %ld rounds\n", argv[1], racy ? "racy" : "free", rounds);
  return 0;
}
