// signal_context.h — registers and memory of an interrupted thread.
// Contract: signal-safe (no allocation, errno preserved).
#pragma once

#include <cstddef>
#include <cstdint>

#include "memory_access.h"

namespace racetrap {

// The general-purpose registers and rip of the signal's ucontext_t.
CpuRegisters registers_from_ucontext(const void* ucontext);

// Copies len bytes at address `address` of this process without faulting
// (process_vm_readv). Returns the number of bytes copied (0 when unreadable).
size_t copy_from_memory(uint64_t address, void* out, size_t len);

}  // namespace racetrap
