// stack_capture.h — call stacks with libunwind into fixed StackRecord buffers.
// Contract: signal-safe as far as libunwind's local unwinder is (no malloc; its
// per-thread cache; reads unwind tables through dl_iterate_phdr). Uses about 2 KiB
// of stack for the cursor.
#pragma once

#include "memory_access.h"
#include "race_record.h"

namespace racetrap {

// Call once per process before the first capture (ordinary context): sets
// libunwind's caching policy.
void init_stack_capture();

// The stack of an interrupted thread, from the signal's ucontext: frames[0] is the
// interrupted pc (or `exact_pc` when non-zero, e.g. the sampled instruction after a
// look-ahead), then return addresses.
void capture_stack_from_signal(void* ucontext, uint64_t exact_pc, StackRecord* out);

// The caller's own stack, skipping `skip` innermost frames (ordinary context).
// libunwind's unw_backtrace: fast (its frame cache), but the first call in a
// thread sets up that cache, 256 KiB of memory written for the thread's lifetime.
void capture_current_stack(int skip, StackRecord* out);
// The same frames, walked with a cursor (no frame cache: several microseconds
// more per call, no memory of its own). For a thread's first few captures, so a
// thread that captures seldom never pays the cache's memory.
void capture_current_stack_uncached(int skip, StackRecord* out);
// The same frames, the way for a capture that may be a thread's only one (creation
// stacks, lock-order and misuse stacks): the calling thread's first
// kCursorWalksPerThread captures made through here walk with a cursor, later ones
// use the frame cache, so a thread that captures a few times never pays the
// cache's memory and one that captures often pays it once.
constexpr uint32_t kCursorWalksPerThread = 16;
void capture_current_stack_lazily(int skip, StackRecord* out);

// The local unwinder's unwind-information lookup for `ip` (its address space's
// find_proc_info; `proc_info` is a unw_proc_info_t) and its release, for
// stack_snapshot_unwind.cc's address space: the tables are found by the same
// library, caches and code the samples' captures already use, so the generic
// libunwind's own local address space (its caches, its table search) stays unused.
// Ordinary context.
int local_find_proc_info(uint64_t ip, void* proc_info, int need_unwind_info);
void local_put_unwind_info(void* proc_info);

// signal-safe. True while the calling thread is inside capture_current_stack:
// a handler interrupting it must not unwind (libunwind is not re-entrant).
bool stack_capture_busy();

// signal-safe. For a signal that interrupted racetrap's own code (an interposer
// and what it called): unwinds to the program's frame that called into it, the
// first frame with !is_own_code(pc) above one with is_own_code(pc). Gives that
// frame's pc (the return address), rsp and callee-saved registers (bit i of
// *known set for each gpr i recovered; the others are unknown), and the stack from
// there on (frames[0] = the return address). False when there is no such frame or
// the thread is inside capture_current_stack.
bool unwind_to_caller(void* ucontext, bool (*is_own_code)(uint64_t), CpuRegisters* regs, uint32_t* known,
                      StackRecord* stack);

}  // namespace racetrap
