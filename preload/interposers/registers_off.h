// registers_off.h — a thread's armed debug registers switched off across one call
// that makes no user-mode access racetrap needs to watch, and back on after it.
//
// An enabled data breakpoint costs its thread outside its own traps, whatever
// address it watches (bench/armed_switch, bench/results): the kernel's copies to
// and from user memory run ~3.8 times slower.
// Switching a register off (PERF_EVENT_IOC_DISABLE) and on again (ENABLE)
// costs ~2.2 us for the pair on the host measured; each register keeps its watch
// (BreakpointSlot::suspend/resume). A sampling tick taken inside the call that
// re-points or disarms a register is honoured: resume enables only what is still
// armed, and re-pointing enables it already (enabling twice is harmless). A
// program's own signal handler that runs inside the call (its accesses unwatched)
// or leaves it by siglongjmp (the registers stay off until their next re-point or
// disarm) is rare enough to accept.
// signal-safe: ioctls on the thread's own descriptors.
#pragma once

#include "thread_state.h"

namespace racetrap {

// How many of the thread's registers are armed.
inline unsigned armed_registers(const ThreadState& t) {
  unsigned armed = 0;
  for (const BreakpointSlot& bp : t.breakpoints) armed += bp.armed() ? 1 : 0;
  return armed;
}

class RegistersOff {
 public:
  RegistersOff() = default;
  RegistersOff(const RegistersOff&) = delete;
  RegistersOff& operator=(const RegistersOff&) = delete;
  ~RegistersOff() {
    if (suspended_ == 0) return;
    for (int i = 0; i < kMaxWatchSlots; ++i) {
      if ((suspended_ & (1u << i)) != 0) t_->breakpoints[i].resume();
    }
  }

  // Switches off t's armed registers; whether it switched any off.
  bool switch_off(ThreadState* t) {
    t_ = t;
    for (int i = 0; i < kMaxWatchSlots; ++i) {
      if (t->breakpoints[i].suspend()) suspended_ |= 1u << i;
    }
    return suspended_ != 0;
  }

 private:
  ThreadState* t_ = nullptr;
  unsigned suspended_ = 0;
};

}  // namespace racetrap
