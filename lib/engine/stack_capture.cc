// stack_capture.cc — libunwind local unwinding. signal-safe (see header).
#define UNW_LOCAL_ONLY
#include "stack_capture.h"

#include <libunwind.h>

#include <atomic>

#include "signal_safety.h"
#include "unwind_fork_gate.h"
#include "unwind_signal_block.h"

namespace racetrap {
namespace {

// Set while this thread is inside libunwind in ordinary context: a signal handler
// on the same thread must not unwind then (libunwind is not re-entrant).
__attribute__((tls_model("initial-exec"))) thread_local int capturing_in_thread = 0;
// Captures made through capture_current_stack_lazily by this thread, up to
// kCursorWalksPerThread.
__attribute__((tls_model("initial-exec"))) thread_local uint32_t lazy_captures_in_thread = 0;

}  // namespace

bool stack_capture_busy() { return capturing_in_thread != 0; }

void init_stack_capture() { unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD); }

void capture_stack_from_signal(void* ucontext, uint64_t exact_pc, StackRecord* out) {
  ErrnoKeeper keep;
  out->frame_count = 0;
  const UnwindPermit permit;  // none while a fork waits (unwind_fork_gate.h)
  if (!permit.allowed()) return;
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
}

namespace {

// unw_backtrace's frames without its frame cache: return addresses, from the one
// into this function's caller (this function's own pc is not one of them, as
// unw_backtrace's is not).
__attribute__((noinline)) int walk_current_stack(void** frames, int max) {
  // The cursor walk blocks every signal around each frame's cache and table use;
  // unw_backtrace's frame cache does not, so only this walk takes the block.
  const SignalsBlockedForUnwind blocked;  // libunwind's own blocks then cost no system call
  unw_context_t context;
  unw_cursor_t cursor;
  int n = 0;
  if (unw_getcontext(&context) == 0 && unw_init_local(&cursor, &context) == 0 && unw_step(&cursor) > 0) {
    do {
      unw_word_t ip = 0;
      if (unw_get_reg(&cursor, UNW_REG_IP, &ip) != 0 || ip == 0) break;
      frames[n++] = reinterpret_cast<void*>(ip);
    } while (n < max && unw_step(&cursor) > 0);
  }
  asm volatile("" ::: "memory");  // no tail call: the frame skipped above is this one
  return n;
}

// Inlined into each public function, so both skip the same frames: frames[0] is
// the return address into the public function.
__attribute__((always_inline)) inline void capture_current(int skip, StackRecord* out, bool cached) {
  void* frames[kMaxFrames + 8];
  out->frame_count = 0;
  int n = 0;
  if (begin_unwind()) {  // none while a fork waits (unwind_fork_gate.h)
    ++capturing_in_thread;
    std::atomic_signal_fence(std::memory_order_seq_cst);
    n = cached ? unw_backtrace(frames, kMaxFrames + 8) : walk_current_stack(frames, kMaxFrames + 8);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    --capturing_in_thread;
    end_unwind();
  }
  for (int i = skip + 1; i < n && out->frame_count < kMaxFrames; ++i)  // +1: the public function
    out->frames[out->frame_count++] = reinterpret_cast<uint64_t>(frames[i]);
  // These are return addresses; the report treats frames[0] as exact, so point it
  // inside the call instruction.
  if (out->frame_count > 0) out->frames[0] -= 1;
}

}  // namespace

void capture_current_stack(int skip, StackRecord* out) { capture_current(skip, out, true); }

void capture_current_stack_uncached(int skip, StackRecord* out) { capture_current(skip, out, false); }

void capture_current_stack_lazily(int skip, StackRecord* out) {
  const bool cached = lazy_captures_in_thread >= kCursorWalksPerThread;
  if (!cached) ++lazy_captures_in_thread;
  capture_current(skip, out, cached);
}

int local_find_proc_info(uint64_t ip, void* proc_info, int need_unwind_info) {
  unw_addr_space_t local = unw_local_addr_space;
  return unw_get_accessors(local)->find_proc_info(local, ip, static_cast<unw_proc_info_t*>(proc_info),
                                                   need_unwind_info, nullptr);
}

void local_put_unwind_info(void* proc_info) {
  unw_addr_space_t local = unw_local_addr_space;
  unw_get_accessors(local)->put_unwind_info(local, static_cast<unw_proc_info_t*>(proc_info), nullptr);
}

bool unwind_to_caller(void* ucontext, bool (*is_own_code)(uint64_t), CpuRegisters* regs, uint32_t* known,
                      StackRecord* stack) {
  if (stack_capture_busy()) return false;
  ErrnoKeeper keep;
  const UnwindPermit permit;  // none while a fork waits (unwind_fork_gate.h)
  if (!permit.allowed()) return false;
  unw_cursor_t cursor;
  bool found = false;
  if (unw_init_local2(&cursor, static_cast<unw_context_t*>(ucontext), UNW_INIT_SIGNAL_FRAME) == 0) {
    bool seen_own = false;
    for (int depth = 0; depth < 24; ++depth) {
      unw_word_t ip = 0;
      if (unw_get_reg(&cursor, UNW_REG_IP, &ip) != 0 || ip == 0) break;
      const bool own = is_own_code(ip);
      if (own) seen_own = true;
      if (seen_own && !own) {
        found = true;
        break;
      }
      if (unw_step(&cursor) <= 0) break;
    }
  }
  if (found) {
    // Callee-saved registers and rsp are what the caller will see after the call.
    static constexpr struct { int unw; int gpr; } kSaved[] = {
        {UNW_X86_64_RBX, kRbx}, {UNW_X86_64_RBP, kRbp}, {UNW_X86_64_R12, kR12}, {UNW_X86_64_R13, kR13},
        {UNW_X86_64_R14, kR14}, {UNW_X86_64_R15, kR15}, {UNW_X86_64_RSP, kRsp}};
    *regs = CpuRegisters{};
    *known = 0;
    unw_word_t v = 0;
    unw_get_reg(&cursor, UNW_REG_IP, &v);
    regs->rip = v;
    for (const auto& r : kSaved) {
      if (unw_get_reg(&cursor, r.unw, &v) != 0) continue;
      regs->gpr[r.gpr] = v;
      *known |= 1u << r.gpr;
    }
    stack->frame_count = 0;
    do {
      unw_word_t ip = 0;
      if (unw_get_reg(&cursor, UNW_REG_IP, &ip) != 0 || ip == 0) break;
      stack->frames[stack->frame_count++] = ip;
    } while (stack->frame_count < kMaxFrames && unw_step(&cursor) > 0);
  }
  return found;
}

}  // namespace racetrap
