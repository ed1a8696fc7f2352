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

// Copies the len bytes (1 to 8, within one naturally aligned 8-byte block) at
// `address` without faulting, as copy_from_memory does, but without its page
// pinning, which costs 3 to 11 us a read in a VM (mostly the target mm's lock and
// the page walk): the kernel first reads the aligned block itself as the signal
// set of an rt_sigprocmask(SIG_BLOCK) call, which fails with EFAULT where a plain
// read would fault, and only then is the block copied plainly (about 0.3 us in
// all). Only for racetrap's SIGTRAP handler, whose mask already blocks every
// signal (so the call blocks nothing new, and sigreturn restores the program's
// mask anyway), and only for bytes the interrupted thread itself has just
// accessed or is about to access: between the kernel's read and the copy another
// thread could unmap the page only by racing with this thread's own access.
// Falls back to copy_from_memory where protection keys may make readable pages
// unreadable to user code, for bytes across an 8-byte boundary and in the first page.
size_t copy_word_from_memory(uint64_t address, void* out, size_t len);

// The process id copy_from_memory reads from, so a read is one system call, not
// two (getpid is not cached by glibc): set at start-up and again in a fork's
// child. Until it is set (0), copy_from_memory asks the kernel each time.
void set_own_pid_for_reads(uint32_t pid);

// 1 when executable memory may be unreadable (x86 protection keys enabled: Linux
// makes PROT_EXEC-only mappings execute-only with them), 0 when not.
int execute_only_possible();

// Copies code bytes [address, address + len) as copy_from_memory does, but with a
// plain copy when they lie in the page of `interrupted_pc`, the pc the calling
// thread was interrupted at: that page is mapped and, without protection keys,
// readable, so the copy cannot fault, and it saves the two system calls of
// copy_from_memory (process_vm_readv), about a microsecond in a VM.
size_t copy_code_near(uint64_t interrupted_pc, uint64_t address, void* out, size_t len);

// The code bytes that end right before `pc` (at most 15: one instruction), without
// faulting; fewer when the page before pc's is unmapped, 0 when none can be read.
// At a data-breakpoint trap they hold the instruction that made the access.
size_t copy_code_before(uint64_t pc, uint8_t* out);

}  // namespace racetrap
