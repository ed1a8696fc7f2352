// stack_snapshot.h — a call stack taken in two steps, for code that must not
// unwind where it stands (a lock-order edge is found while the program holds a
// lock: preload/lock_tracking.cc). take_stack_snapshot() copies the registers and
// the top of the thread's stack (no unwinding, no allocation, no syscall: well
// under a microsecond for 8 KiB); unwind_stack_snapshot() later walks that copy
// with libunwind, reading stack memory from the copy and everything else (code,
// unwind tables) from the live process, as perf does with its user-stack dumps.
// Frames deeper than the copy are cut off.
#pragma once

#include <cstddef>
#include <cstdint>

#include "race_record.h"

namespace racetrap {

struct StackSnapshot {
  static constexpr size_t kBytes = 8192;
  uint64_t regs[17] = {};  // libunwind's x86-64 numbering: rax, rdx, rcx, rbx, rsi, rdi, rbp, rsp, r8..r15, rip
  uint64_t base = 0;       // stack address of bytes[0] (the snapshot's rsp)
  uint64_t length = 0;     // bytes copied
  uint64_t stack_begin = 0, stack_end = 0;  // the whole stack (no reads there beyond the copy)
  alignas(16) unsigned char bytes[kBytes];
};

// Copies the caller's registers (as of this call) and the stack from its rsp up to
// `stack_end` (at most kBytes). False, with nothing taken, when rsp is not inside
// [stack_begin, stack_end) (an unknown stack: the caller unwinds directly).
// signal-safe.
bool take_stack_snapshot(uint64_t stack_begin, uint64_t stack_end, StackSnapshot* out);

// The stack the snapshot was taken in: frames[0] is the pc in
// take_stack_snapshot, then return addresses (take_stack_snapshot's caller
// first). Ordinary context (libunwind allocates its address space and caches).
void unwind_stack_snapshot(const StackSnapshot& snapshot, StackRecord* out);

}  // namespace racetrap
