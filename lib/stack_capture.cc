// stack_capture.cc — libunwind local unwinding. signal-safe (see header).
#define UNW_LOCAL_ONLY
#include "stack_capture.h"

#include <libunwind.h>

#include <cerrno>

namespace racetrap {

void init_stack_capture() { unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD); }

void capture_stack_from_signal(void* ucontext, uint64_t exact_pc, StackRecord* out) {
  int saved_errno = errno;
  out->frame_count = 0;
  unw_cursor_t cursor;
  if (unw_init_local2(&cursor, static_cast<unw_context_t*>(ucontext), UNW_INIT_SIGNAL_FRAME) == 0) {
    do {
      unw_word_t ip = 0;
      if (unw_get_reg(&cursor, UNW_REG_IP, &ip) != 0 || ip == 0) break;
      out->frames[out->frame_count++] = ip;
    } while (out->frame_count < kMaxFrames && unw_step(&cursor) > 0);
  }
  if (exact_pc != 0) {
    if (out->frame_count == 0) out->frame_count = 1;
    out->frames[0] = exact_pc;
  }
  errno = saved_errno;
}

void capture_current_stack(int skip, StackRecord* out) {
  void* frames[kMaxFrames + 8];
  int n = unw_backtrace(frames, kMaxFrames + 8);
  out->frame_count = 0;
  for (int i = skip + 1; i < n && out->frame_count < kMaxFrames; ++i)  // +1: this function
    out->frames[out->frame_count++] = reinterpret_cast<uint64_t>(frames[i]);
  // These are return addresses; the report treats frames[0] as exact, so point it
  // inside the call instruction.
  if (out->frame_count > 0) out->frames[0] -= 1;
}

}  // namespace racetrap
