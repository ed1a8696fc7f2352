// plain_string_ops.h — memcpy, memmove and memset without fast-string instructions
// (rep movs / rep stos): 16-byte vector loads and stores.
//
// Why: on the AMD EPYC hosts measured (bench/armed_string_copy), a thread with any
// data breakpoint enabled executes rep movsb / rep stosb slowly, 3.5 GB/s instead
// of 57-98 GB/s for 4-64 KiB (the processor gives up its fast-string path while a
// breakpoint must be checked; plain vector moves keep their speed). glibc copies
// with rep movsb from about 2 KiB up to its non-temporal threshold, so a watched
// program's copies of that size run many times slower while its thread has a
// register armed on another thread's watch (preload/interposers/interpose_string.cc).
// The accesses are the same bytes either way: a watched byte still traps.
// Contract: signal-safe; the same results as the C functions (memmove: any overlap).
#pragma once

#include <cstddef>
#include <cstdint>

namespace racetrap {

void* plain_memcpy(void* dst, const void* src, size_t n);   // no overlap
void* plain_memmove(void* dst, const void* src, size_t n) noexcept;  // overlap allowed
void* plain_memset(void* dst, int c, size_t n) noexcept;

// Whether `pc` is in the code of the functions above (their own section). They do
// the program's copies on its behalf: a sampling tick there samples the program's
// access, though the code is racetrap's.
bool in_plain_string_ops(uint64_t pc);

}  // namespace racetrap
