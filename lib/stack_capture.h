// stack_capture.h — call stacks with libunwind into fixed StackRecord buffers.
// Contract: signal-safe as far as libunwind's local unwinder is (no malloc; its
// per-thread cache; reads unwind tables through dl_iterate_phdr). Uses about 2 KiB
// of stack for the cursor.
#pragma once

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
void capture_current_stack(int skip, StackRecord* out);

}  // namespace racetrap
