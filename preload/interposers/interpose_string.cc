// interpose_string.cc — the program's memcpy, memmove and memset of 2 KiB and more,
// while the calling thread has a debug register armed, copy without fast-string
// instructions (lib/engine/plain_string_ops.h says why: on the AMD hosts measured
// an armed data breakpoint makes rep movsb / rep stosb, which glibc uses from about
// 2 KiB up, 15-28 times slower). Every other call goes straight to glibc's own
// implementation, looked up (dlsym RTLD_NEXT: the ifunc's choice, the code the
// program would run) by this file's constructor, the library's first; a call before
// it (another library's constructor) copies with racetrap's plain loops. Not
// through glibc's checking entry points (__memcpy_chk and the others): binding them
// at load runs their ifunc resolvers, which sit among glibc's debugging functions,
// and the kernel mapped 44 KiB of libc around them for the process's life. The
// thread's registers are armed on watches of other
// threads most of the time a program runs with others (a watch lives a few sampling
// periods): in pigz -p 2 -9 this was 2.5% of its CPU time (23 ms of 905).
// `racetrap run` also raises glibc's thresholds for the string instructions
// (RACETRAP_FAST_COPY, GLIBC_TUNABLES), which covers glibc's copies inside itself
// too; this covers a plain LD_PRELOAD run, and keeps rep movsb while no register
// is armed.
// signal-safe: racetrap's own handlers call these too.
#include <dlfcn.h>

#include <cstddef>

#include "fresh_pages.h"
#include "plain_string_ops.h"
#include "registers_off.h"  // armed_registers
#include "thread_state.h"

namespace racetrap {
namespace {

using CopyFn = void* (*)(void*, const void*, size_t) noexcept;
using SetFn = void* (*)(void*, int, size_t) noexcept;
// glibc's memcpy, memmove and memset, set once by look_up_libc_string_ops before
// any thread but the first exists; racetrap's plain loops until then (and if a
// lookup fails), so a call never needs to test them.
constinit CopyFn libc_memcpy = plain_memmove;
constinit CopyFn libc_memmove = plain_memmove;
constinit SetFn libc_memset = plain_memset;

__attribute__((constructor(101))) void look_up_libc_string_ops() {
  if (auto* f = reinterpret_cast<CopyFn>(dlsym(RTLD_NEXT, "memcpy"))) libc_memcpy = f;
  if (auto* f = reinterpret_cast<CopyFn>(dlsym(RTLD_NEXT, "memmove"))) libc_memmove = f;
  if (auto* f = reinterpret_cast<SetFn>(dlsym(RTLD_NEXT, "memset"))) libc_memset = f;
}

// glibc's threshold for rep movsb is 2 KiB and more (2112 bytes with FSRM); below it
// copies with vector moves itself.
constexpr size_t kStringInstructionsFrom = 2048;

// Whether the calling thread has any debug register armed (its own state: the
// flags are written by this thread only, in its handlers and interposers); counted
// when it has in the thread's own counter (RACETRAP_STATS: string_ops_plain), not
// in the process-wide one every thread's copies would contend for.
inline ThreadState* armed_thread() {
  ThreadState* t = current_thread();
  if (t == nullptr || armed_registers(*t) == 0) return nullptr;
  t->string_ops_plain = t->string_ops_plain + 1;
  return t;
}

// The armed path: a large destination's fresh pages faulted in with the registers
// off first (fresh_pages.h), then the copy without fast-string instructions.
inline void* armed_move(ThreadState* t, void* dst, const void* src, size_t n) {
  if (n >= kFaultInFromBytes) fault_in_fresh_destination(t, dst, n);
  return plain_memmove(dst, src, n);
}

inline void* armed_set(ThreadState* t, void* dst, int c, size_t n) {
  if (n >= kFaultInFromBytes) fault_in_fresh_destination(t, dst, n);
  return plain_memset(dst, c, n);
}

// The calls of kStringInstructionsFrom bytes and more, out of line: a smaller one
// goes from the interposer straight to glibc (a compare and a jump, no frame:
// programs make millions of small copies).
// memcpy's armed copy is plain_memmove too: glibc's x86-64 memcpy gives memmove's
// result for overlapping ranges (and old binaries bound to memcpy@GLIBC_2.2.5
// expect it), so a program that overlaps them by mistake behaves as it does
// without racetrap.
[[gnu::noinline]] void* large_copy(CopyFn libc_copy, void* dst, const void* src, size_t n) noexcept {
  if (ThreadState* t = armed_thread()) return armed_move(t, dst, src, n);
  return libc_copy(dst, src, n);
}

[[gnu::noinline]] void* large_memset(void* dst, int c, size_t n) noexcept {
  if (ThreadState* t = armed_thread()) return armed_set(t, dst, c, n);
  return libc_memset(dst, c, n);
}

}  // namespace
}  // namespace racetrap

extern "C" __attribute__((visibility("default"))) void* memcpy(void* __restrict dst, const void* __restrict src,
                                                                  size_t n) noexcept {
  if (n < racetrap::kStringInstructionsFrom) return racetrap::libc_memcpy(dst, src, n);
  return racetrap::large_copy(racetrap::libc_memcpy, dst, src, n);
}

extern "C" __attribute__((visibility("default"))) void* memmove(void* dst, const void* src, size_t n) noexcept {
  if (n < racetrap::kStringInstructionsFrom) return racetrap::libc_memmove(dst, src, n);
  return racetrap::large_copy(racetrap::libc_memmove, dst, src, n);
}

extern "C" __attribute__((visibility("default"))) void* memset(void* dst, int c, size_t n) noexcept {
  if (n < racetrap::kStringInstructionsFrom) return racetrap::libc_memset(dst, c, n);
  return racetrap::large_memset(dst, c, n);
}
