// runtime.cc — start-up (library constructor), fork handling, shutdown.
#include "runtime.h"

#include <link.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <algorithm>
#include <atomic>
#include <new>
#include <string>

#include "breakpoint_self_test.h"
#include "demand_paged_libraries.h"
#include "exit_report.h"
#include "interpose_thread.h"
#include "lock_tracking.h"
#include "perf_support.h"
#include "real_function.h"
#include "interpose_signal.h"
#include "pc_diversity.h"
#include "pc_tables.h"
#include "signal_handler.h"
#include "signal_context.h"
#include "sigtrap_mask.h"
#include "stack_capture.h"
#include "thread_state.h"
#include "unwind_fork_gate.h"
#include "vdso_clock.h"
#include "writer_search.h"

namespace racetrap {

// Never destroyed: threads still running during exit keep using it. Zero bytes
// (active == false) until the constructor below builds it.
alignas(Runtime) unsigned char g_runtime_storage[sizeof(Runtime)];
// Set once per process by watch_threads (inherited by a forked child).
std::atomic<bool> g_threads_watched{false};

namespace {

// Runtime::thread_records / thread_record_logged: constant-initialized (all zero,
// in .bss), so no start-up code touches their pages.
constinit ThreadRecord thread_record_storage[kMaxThreadSlots] = {};
constinit std::atomic<uint32_t> thread_record_logged_storage[kMaxThreadSlots] = {};

// The scheduler tick, in microseconds (the coarse clock's resolution is one
// jiffy: 4000 at HZ=250); 0 when the kernel does not say.
uint64_t scheduler_tick_us() {
  timespec res{};
  if (raw_clock_getres(CLOCK_REALTIME_COARSE, &res) != 0) return 0;
  return static_cast<uint64_t>(res.tv_sec) * 1000000u + static_cast<uint64_t>(res.tv_nsec) / 1000u;
}

// The sampling clock's policy for RACETRAP_CLOCK at the current period, and the
// period of the perf clock that tops a timer up under auto.
void set_clock_policy(Runtime& rt) {
  const uint64_t tick_us = scheduler_tick_us();
  const auto period_us = static_cast<uint64_t>(rt.sample_us);
  rt.clock_policy = clock_policy_for(rt.flags.clock.c_str(), period_us, tick_us);
  rt.perf_top_up_us = perf_top_up_period_us(period_us, tick_us);
}

// What the start-up line says about the sampling clock.
const char* clock_description(const Runtime& rt) {
  switch (rt.clock_policy) {
    case ClockPolicy::kCpuTimer: return " (clock cpu-timer)";
    case ClockPolicy::kByBehaviour: return " (clock auto: CPU-time timer, perf added for threads that rarely block)";
    case ClockPolicy::kPerf: break;
  }
  return "";
}

void set_log_prefix(Runtime& rt) {
  const std::string& path = rt.flags.log_path;
  std::string full = path;
  if (path != "stderr" && path[0] != '/') {
    char cwd[4096];
    if (getcwd(cwd, sizeof cwd) != nullptr) full = std::string(cwd) + "/" + path;
  }
  // Copied, not snprintf'd: libc's printf code would be mapped into every process
  // for one string (64 KiB of it, by the kernel's fault-around).
  const size_t len = std::min(full.size(), sizeof rt.log_prefix - 1);
  std::memcpy(rt.log_prefix, full.data(), len);
  rt.log_prefix[len] = '\0';
}

// The writable segments of libc and the dynamic loader hold their own state
// (stdio buffers, malloc arenas, locks), synchronized in ways racetrap cannot see.
void find_libc_data(Runtime& rt) {
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        auto* r = static_cast<Runtime*>(data);
        const char* name = info->dlpi_name ? info->dlpi_name : "";
        const char* base = std::strrchr(name, '/');
        base = base ? base + 1 : name;
        if (std::strncmp(base, "libc.so", 7) != 0 && std::strncmp(base, "ld-linux", 8) != 0) return 0;
        for (int i = 0; i < info->dlpi_phnum && r->libc_data_count < 4; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_LOAD || (ph.p_flags & PF_W) == 0) continue;
          uint64_t begin = info->dlpi_addr + ph.p_vaddr;
          r->libc_data[r->libc_data_count++] = {begin, begin + ph.p_memsz};
        }
        return 0;
      },
      &rt);
}

// In the child of fork() (also daemon(), and anything else that runs the atfork
// handlers): only the forking thread exists. It keeps being watched with fresh
// state; every structure another thread could have been changing at the moment
// of the fork is rebuilt rather than trusted (no lock held by a vanished thread
// can block the child), and the parent's raw stream is left to the parent.
void after_fork_in_child() {
  open_unwind_gate_in_child();
  Runtime& rt = runtime();
  if (!rt.active) return;
  rt.pid = static_cast<uint32_t>(raw_getpid());
  set_own_pid_for_reads(rt.pid);
  // The inherited descriptors name the parent's threads' events (and the
  // parent's raw stream): close them all; this thread opens its own below.
  owned_fds::close_all();
  make_raw_path(rt);
  rt.raw_log.reset_after_fork(rt.raw_path, rt.pid);
  // The child is a process of its own: its races go to its own report even when
  // the parent reported the same pair, and its statistics count its own run.
  reported_pairs().clear();
  reset_run_stats(rt.stats);
  rt.board.clear();
  rt.sync_clocks.reset_after_fork();
  rt.sync_words.reset_after_fork();
  lock_tracking_after_fork_child();
  writer_search_after_fork();
  forget_other_threads_after_fork();
  for (uint32_t i = 0; i < kMaxThreadSlots; ++i) rt.thread_record_logged[i].store(0, std::memory_order_relaxed);
  ThreadState* t = current_thread();
  if (t == nullptr) return;
  const Epoch own = t->clock.get(t->slot);
  t->clock.clear();
  t->clock.set(t->slot, own);
  rt.registry.reset_after_fork(t->slot, own);
  t->first_tick.forget();  // the parent's timer is not the child's (timers are not inherited)
  t->first_tick_handoff.store(kSelf, std::memory_order_relaxed);  // and no creator arms one here
  t->clock_inherited = false;  // nor are sampling clocks (inherit_thread: threads only)
  t->creating_thread = 0;
  t->clock_open_deferred = 0;
  detach_thread_state(t);
  t->board_version_seen = 0;
  std::memset(t->done_generation, 0, sizeof t->done_generation);
  attach_thread_state(t);
}

std::atomic<bool> stack_capture_ready{false};
// Saved by the constructor for watch_threads' verbosity line.
bool modify_attributes_supported = true;

__attribute__((constructor(101))) void racetrap_start() {
  Runtime& rt = *new (g_runtime_storage) Runtime;
  rt.log_prefix[0] = rt.raw_path[0] = '\0';  // filled in below once enabled (runtime.h)
  rt.thread_records = thread_record_storage;
  rt.thread_record_logged = thread_record_logged_storage;
  rt.flags = parse_flags([](const char* name) { return std::getenv(name); },
                         [](const std::string& line) { write_stderr_line(line.c_str()); });
  if (!rt.flags.enable) return;
  PerfSupport support = probe_perf_support(/*read_paranoid=*/false);
  if (!support.problem.empty()) {
    std::string line = "racetrap: " + support.problem + "; the program runs unwatched (`racetrap check` says more)";
    write_stderr_line(line.c_str());
    return;
  }
  BreakpointSlot::set_use_modify(support.modify_attributes);
  modify_attributes_supported = support.modify_attributes;
  rt.pid = static_cast<uint32_t>(raw_getpid());
  set_own_pid_for_reads(rt.pid);
  set_log_prefix(rt);
  make_raw_path(rt);
  rt.raw_log.configure(rt.raw_path, rt.pid);
  rt.sample_us = sample_period_us(rt.flags.sample_us, DetectionMode::kWatchpoints);
  rt.sample_period_ns = static_cast<uint64_t>(rt.sample_us) * 1000;
  // Until the second thread fixes it with the mode's period (watch_threads).
  set_clock_policy(rt);
  rt.board.configure(static_cast<int>(rt.flags.watchpoints),
                     rt.sample_period_ns * static_cast<uint64_t>(rt.flags.watch_lifetime),
                     static_cast<uint32_t>(rt.flags.watch_lifetime));
  if (rt.flags.sync_words) rt.sync_words.configure();
  find_libc_data(rt);
  init_sigtrap_mask();
  adopt_sigtrap_mask();  // SIGTRAP blocked across exec: the program's view, not the kernel's
  install_trap_handler();
  pthread_atfork(close_unwind_gate_for_fork, open_unwind_gate_in_parent, after_fork_in_child);
  rt.active = true;
  // The main thread's state now (the lock-order and misuse checks of a
  // single-threaded program use it); its sampling, the self-test and the mode wait
  // for the second thread (watch_threads).
  ThreadState* main_thread = create_thread_state(nullptr);
  if (main_thread == nullptr) {
    rt.active = false;
    return;
  }
  attach_thread_state(main_thread);
}

// At exit (the last thread's return from main, exit(), or exit() called while
// other threads still run). Threads that still run keep sampling, but the raw
// stream is sealed first, so the report rendered here is not appended to under it.
__attribute__((destructor(101))) void racetrap_stop() {
  Runtime& rt = runtime();
  if (!rt.active || !in_own_process()) return;
  ThreadState* t = current_thread();
  if (t != nullptr) {
    {
      RuntimeScope scope(t);  // libunwind's own locks, taken while unwinding, are not the program's
      add_pending_edges(t);
    }
    detach_thread_state(t);
  }
  rt.raw_log.seal();
  finish_report(rt);
}

}  // namespace


void ensure_stack_capture() {
  if (stack_capture_ready.load(std::memory_order_acquire)) return;
  relocate_library_pipes(true);  // libunwind's validation pipe goes out of the program's way
  init_stack_capture();
  relocate_library_pipes(false);
  stack_capture_ready.store(true, std::memory_order_release);
}

void watch_threads() {
  Runtime& rt = runtime();
  if (!rt.active || threads_watched()) return;
  // What the set-up below maps of the program's libraries, and the program had not,
  // is dropped at its end.
  ProgramPages program_pages;
  program_pages.note(reinterpret_cast<const void*>(&watch_threads));
  // From here racetrap's libraries are resident page by page as they are used, not
  // 64 KiB around each first touch, and what start-up mapped of them is dropped: a
  // program whose memory is near its peak when it starts its first thread (sort,
  // after reading its input) no longer has the start-up's and this set-up's
  // fault-around windows (libunwind's, the self-test's, the mode's code) on top.
  const DemandPagingOutcome paging = page_own_libraries_on_demand(reinterpret_cast<const void*>(&watch_threads));
  // Before a second thread runs: its interposers' first calls, often inside a
  // lock's hold, find their libc functions looked up (real_function.h).
  resolve_real_functions();
  look_up_vdso_clock();  // the samples' clock reads, without glibc's wrapper page
  ensure_stack_capture();
  // Before the first thread is watched: does a debug-register trap arrive here at
  // all? Where it does not, RACETRAP_MODE=auto runs the value-change mode, and a
  // forced watchpoint mode watches no thread (the interposers still feed the
  // lock-order and misuse checks); one line has said which. The mode is fixed
  // here, before any thread samples. A forced value-change mode needs no test.
  const BreakpointSelfTest self_test =
      rt.flags.mode == "value-change"
          ? BreakpointSelfTest::not_run
          : run_breakpoint_self_test(static_cast<int>(rt.flags.verbosity), rt.flags.mode == "auto");
  rt.mode = choose_detection_mode(rt.flags.mode, self_test);
  // The board (watchpoint mode only) keeps the watchpoint period it was configured with.
  rt.sample_us = sample_period_us(rt.flags.sample_us, rt.mode);
  rt.sample_period_ns = static_cast<uint64_t>(rt.sample_us) * 1000;
  set_clock_policy(rt);
  rt.breakpoints_fire = self_test != BreakpointSelfTest::silent;
  if (self_test == BreakpointSelfTest::fires) rt.stats.self_test_traps.store(1, std::memory_order_relaxed);
  // The probe opened a breakpoint: threads open theirs at their first arm, so
  // short-lived threads that never arm one do not pay for four events.
  BreakpointSlot::set_open_lazily(true);
  g_threads_watched.store(true, std::memory_order_release);
  ThreadState* t = current_thread();
  if (t != nullptr) {
    t->clock_root = rt.clock_policy == ClockPolicy::kPerf;  // its clock is passed on only with the perf policy
    begin_watching(t);
    if (!t->watching && rt.watches_threads())
      write_stderr_line("racetrap: cannot start sampling the main thread; it runs unwatched, the others are watched");
  }
  const long program_pages_dropped = program_pages.drop_new();
  if (rt.flags.verbosity >= 1 && rt.watches_threads()) {
    char line[512];
    const std::string mode = describe_detection_mode(rt.flags.mode, self_test);
    if (rt.mode == DetectionMode::kValueChange) {
      std::snprintf(line, sizeof line,
                    "racetrap: watching pid %u: a sample every %lld us of CPU time%s, mode %s, stalls of up to %lld us",
                    rt.pid, static_cast<long long>(rt.sample_us), clock_description(rt),
                    mode.c_str(), static_cast<long long>(rt.flags.stall_us));
    } else {
      std::snprintf(line, sizeof line,
                    "racetrap: watching pid %u: a sample every %lld us of CPU time%s, mode %s, %d watchpoints%s", rt.pid,
                    static_cast<long long>(rt.sample_us), clock_description(rt),
                    mode.c_str(), rt.board.slots(),
                    modify_attributes_supported ? "" : " (re-arming by reopening: no MODIFY_ATTRIBUTES)");
    }
    write_stderr_line(line);
  }
  if (rt.flags.verbosity >= 2) {
    char line[256];
    if (paging.registered)
      std::snprintf(line, sizeof line,
                    "racetrap: %d libraries and %d unwind tables paged on demand, %ld resident pages dropped, "
                    "%ld of the program's mapped by the set-up",
                    paging.libraries, paging.unwind_tables, paging.pages_dropped, program_pages_dropped);
    else
      std::snprintf(line, sizeof line, "racetrap: libraries paged as usual (fault-around): %s",
                    paging.error != 0 ? std::strerror(paging.error) : "nothing to register");
    write_stderr_line(line);
  }
  // Last: what the code above mapped of racetrap's libraries leaves the peak too.
  (void)drop_own_pages_again();
}

bool in_own_process() {
  return static_cast<uint32_t>(raw_getpid()) == runtime().pid;
}

void write_stderr_line(const char* text) {
  size_t len = std::strlen(text);
  char nl = '\n';
  (void)!write(2, text, len);
  (void)!write(2, &nl, 1);
}

void make_raw_path(Runtime& rt) {
  // <prefix>.<pid>.raw, built by hand for the same reason as the log prefix.
  const char* prefix = std::strcmp(rt.log_prefix, "stderr") == 0 ? "racetrap" : rt.log_prefix;
  char pid[16];
  int digits = 0;
  uint32_t v = rt.pid;
  do pid[digits++] = static_cast<char>('0' + v % 10); while ((v /= 10) != 0);
  size_t used = 0;
  const auto put = [&](char c) {
    if (used < sizeof rt.raw_path - 1) rt.raw_path[used++] = c;
  };
  for (const char* c = prefix; *c != '\0'; ++c) put(*c);
  put('.');
  while (digits > 0) put(pid[--digits]);
  for (const char* c = ".raw"; *c != '\0'; ++c) put(*c);
  rt.raw_path[used] = '\0';
}

}  // namespace racetrap
