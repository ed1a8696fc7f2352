// perf_events.h — the kernel side: hardware breakpoints re-pointed in place with
// PERF_EVENT_IOC_MODIFY_ATTRIBUTES, and a CPU-time sampling clock, both delivering a
// synchronous SIGTRAP (perf_event_attr.sigtrap) to the thread that hit them.
// Contract: BreakpointSlot::arm/disarm and the SigData helpers are signal-safe
// (one ioctl, or close+open in the fallback; errno preserved). Opening is done at
// thread start, outside signal handlers.
#pragma once

#include <linux/perf_event.h>

#include <cstdint>

#include "breakpoint_hits.h"
#include "breakpoint_type.h"

namespace racetrap {


// What goes into perf_event_attr.sig_data and comes back in the SIGTRAP's
// si_perf_data: a tag (so foreign perf SIGTRAPs are told apart), the event kind,
// the debug-register slot and the watch generation it was armed for.
namespace sig_data {
constexpr uint64_t kTag = 0x5254ull << 48;  // "RT"
constexpr uint64_t kTagMask = 0xffffull << 48;
// kPostponedTick: a tick the thread sends itself (preload/signal/deferred_sample.h);
// kMissedTick: one it sends itself for CPU time its clock did not count
// (preload/signal/missed_tick.h).
enum Kind : uint64_t { kSampleTick = 1, kBreakpoint = 2, kPostponedTick = 3, kMissedTick = 4 };
inline uint64_t make(Kind kind, unsigned slot, uint64_t generation) {
  return kTag | (static_cast<uint64_t>(kind) << 44) | (static_cast<uint64_t>(slot & 0xf) << 40) |
         (generation & ((1ull << 40) - 1));
}
inline bool is_ours(uint64_t d) { return (d & kTagMask) == kTag; }
inline Kind kind(uint64_t d) { return static_cast<Kind>((d >> 44) & 0xf); }
inline unsigned slot(uint64_t d) { return static_cast<unsigned>((d >> 40) & 0xf); }
inline uint64_t generation(uint64_t d) { return d & ((1ull << 40) - 1); }
}  // namespace sig_data

// si_perf_data / si_perf_flags of a SIGTRAP with si_code TRAP_PERF, read from the
// kernel's siginfo layout (glibc 2.36 has no member names for them). signal-safe.
struct PerfSignal {
  bool is_perf;     // si_code == TRAP_PERF
  uint64_t data;    // sig_data of the event
  bool async;       // delivered late because SIGTRAP was blocked (TRAP_PERF_FLAG_ASYNC)
};
PerfSignal read_perf_signal(const void* siginfo);

// perf fds are moved to at least this number so the program keeps the low ones:
// half of RLIMIT_NOFILE's soft limit (at most 4096). When nothing is free up
// there, the event is not opened (EMFILE) rather than take one of the program's
// low numbers: that thread runs unwatched.
int perf_fd_floor();

// The descriptors racetrap owns (perf events, the raw stream), so the close/dup2
// interposers can keep the program from closing or overwriting them. Each owned
// fd is tied to the int field that holds it, so a dup2 onto it can move it.
// owned/relocate are signal-safe (atomics only); fds >= kTrackedFds are not
// tracked (racetrap never places its own there unless the limit is that high).
namespace owned_fds {
constexpr int kTrackedFds = 65536;
void own(int fd, int* holder);
void disown(int fd);
bool owned(int fd);
// Moves the owned descriptor `fd` to a free number >= perf_fd_floor() (updating its
// holder) so the program can take `fd`. False when no number is free: the holder
// is then set to -1 and racetrap stops using it (the event is dropped).
bool move_out_of_the_way(int fd);
// The owned fds in [first, last], ascending, at most `max` of them; their count.
int list_in_range(unsigned first, unsigned last, int* out, int max);
// Closes an owned fd for racetrap itself (bypassing the close interposer).
void close_own(int fd);
// In a forked child: closes every owned fd (they name the parent's threads'
// events) and sets their holders to -1.
void close_all();
}  // namespace owned_fds

// The address a disabled (parked) breakpoint points at: a word of racetrap's own.
uint64_t parked_breakpoint_address();

// The attributes of the per-thread CPU-time sampling clock: a SIGTRAP every
// period_us of the thread's CPU time. signal-safe.
perf_event_attr task_clock_attr(uint64_t period_us, bool disabled);

// The attributes of a breakpoint of the calling thread on [addr, addr+len) that
// sends a synchronous SIGTRAP carrying sig_data (kBreakpoint, slot, generation).
// signal-safe.
perf_event_attr breakpoint_attr(unsigned slot, uint64_t addr, uint32_t len, BreakpointType type,
                                uint64_t generation, bool disabled);

// One debug register of the calling thread, opened disabled (or, in lazy mode,
// opened by the first arm()).
class BreakpointSlot {
 public:
  // Opens a disabled breakpoint for the calling thread; false (errno set) on failure.
  // In lazy mode (set_open_lazily) nothing is opened yet and this returns true: the
  // event is opened, already armed, by the first arm() of the calling thread, so a
  // thread that never arms this register never pays for its event (thread create
  // cost). A lazy open that fails drops the slot (arm returns false).
  bool open(unsigned slot_index);
  void close();
  bool is_open() const { return fd_ >= 0 || fd_ == kNotYetOpened; }
  int fd() const { return fd_; }

  // signal-safe. Points the register at [addr, addr+len) (len 1,2,4,8, aligned) and
  // enables it, tagging its SIGTRAPs with `generation`. Returns false on failure.
  bool arm(uint64_t addr, uint32_t len, BreakpointType type, uint64_t generation);
  // signal-safe.
  bool disarm();
  // An fd that is no longer a perf event (the program replaced it by a raw
  // close_range/dup2 racetrap could not intercept) is dropped: the slot stays
  // unarmed and racetrap quietly stops watching with it.

  // signal-safe. Switch an armed register off and on again without changing
  // its watch (PERF_EVENT_IOC_DISABLE / ENABLE, ~1 us each): across a system call
  // whose kernel copies an enabled register slows (interpose_io.cc). suspend()
  // says whether it switched the register off; resume() switches it on only when
  // it is still armed (a signal handler inside the call may have disarmed or
  // re-pointed it; re-pointing enables it already, and enabling twice is harmless).
  bool suspend();
  void resume();

  bool armed() const { return armed_; }
  uint64_t armed_generation() const { return generation_; }
  // Where the last successful arm pointed it (what it fires on while armed).
  const ArmedBreakpoint& armed_range() const { return range_; }

  // Forces the close+reopen path (for kernels without MODIFY_ATTRIBUTES, and for
  // measuring it).
  static void set_use_modify(bool use) { use_modify_ = use; }
  static bool use_modify() { return use_modify_; }
  // Lazy opening (the preload turns it on at start-up, once the support probe has
  // opened a breakpoint successfully; `racetrap check` keeps the eager open).
  static void set_open_lazily(bool lazy) { open_lazily_ = lazy; }
  static bool open_lazily() { return open_lazily_; }

 private:
  static constexpr int kNotYetOpened = -2;  // lazy mode: arm() opens it
  int fd_ = -1;
  unsigned slot_index_ = 0;
  bool armed_ = false;
  uint64_t generation_ = 0;
  ArmedBreakpoint range_;
  static inline bool use_modify_ = true;
  static inline bool open_lazily_ = false;
};

// The per-thread CPU-time sampling clock (PERF_COUNT_SW_TASK_CLOCK).
class SampleClock {
 public:
  // Enabled at once; false (errno set) on failure. signal-safe (a thread's first
  // tick opens it: first_tick_timer.h).
  // With `inherited_by_new_threads`, every thread the calling thread creates from
  // then on (clone with CLONE_THREAD, not fork) gets the same clock from the kernel
  // at its clone, ticking from its first instruction, without a system call of its
  // own (perf_event_attr.inherit + inherit_thread); so do the threads those create.
  // Those copies live as long as this event: closing it (or its thread's exit
  // followed by the close) stops them all, so only a clock kept open for the whole
  // process should be opened this way. Falls back to a clock of this thread alone
  // (returning false in *inherited) when the kernel refuses the inheritance.
  bool open(uint64_t period_us, bool inherited_by_new_threads = false, bool* inherited = nullptr);
  void close();
  // signal-safe. Stops / restarts the ticks (the count keeps its place).
  void pause();
  void resume();
  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  // Ordinary context. Keeps the event open for the rest of the process (or until a
  // fork's child closes the parent's descriptors) in storage of racetrap's own, so
  // the threads that inherited it keep ticking after this object is gone; this
  // clock is then closed as far as its owner is concerned.
  void keep_open_for_inheritors();

 private:
  int fd_ = -1;
};

}  // namespace racetrap
