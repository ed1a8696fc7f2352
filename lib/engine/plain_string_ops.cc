// plain_string_ops.cc — see plain_string_ops.h. signal-safe.
// Each function is one loop of 16-byte moves and one of single bytes, written out
// in the function itself (no helpers, no intrinsics): a race found inside shows
// the function as its top frame, and one racy copy gives few distinct instruction
// addresses (a race is one per pair of them). Each loop step ends with an empty
// asm that clobbers memory (and no loop is unrolled: one instruction address per
// kind of access): without it the compiler may recognize the loop as a
// copy and call memcpy/memset, which under the preload is the interposer that
// calls these functions.
// Every function of this file is in the section racetrap_plain_string_ops, whose
// bounds the linker provides (in_plain_string_ops).
#include "plain_string_ops.h"

#define PLAIN_STRING_OPS_CODE __attribute__((section("racetrap_plain_string_ops")))

extern "C" const char __start_racetrap_plain_string_ops[];
extern "C" const char __stop_racetrap_plain_string_ops[];

namespace racetrap {
namespace {

using Byte = unsigned char;
// 16 bytes moved with one load and one store (movdqu), at any alignment.
typedef Byte Block16 __attribute__((vector_size(16), aligned(1), may_alias));

}  // namespace

PLAIN_STRING_OPS_CODE void* plain_memcpy(void* dst, const void* src, size_t n) {
  auto* d = static_cast<Byte*>(dst);
  const auto* s = static_cast<const Byte*>(src);
  _Pragma("GCC unroll 1") for (; n >= 16; n -= 16, d += 16, s += 16) {
    *reinterpret_cast<Block16*>(d) = *reinterpret_cast<const Block16*>(s);
    asm volatile("" ::: "memory");
  }
  _Pragma("GCC unroll 1") for (; n > 0; --n) {
    *d++ = *s++;
    asm volatile("" ::: "memory");
  }
  return dst;
}

PLAIN_STRING_OPS_CODE void* plain_memmove(void* dst, const void* src, size_t n) noexcept {
  auto* d = static_cast<Byte*>(dst);
  const auto* s = static_cast<const Byte*>(src);
  if (d == s) return dst;
  if (reinterpret_cast<uintptr_t>(d) - reinterpret_cast<uintptr_t>(s) >= n) {
    // d below s, or no overlap: up. Each step loads its 16 bytes before it stores
    // them, and stores only below what is still to be read.
    _Pragma("GCC unroll 1") for (; n >= 16; n -= 16, d += 16, s += 16) {
      *reinterpret_cast<Block16*>(d) = *reinterpret_cast<const Block16*>(s);
      asm volatile("" ::: "memory");
    }
    _Pragma("GCC unroll 1") for (; n > 0; --n) {
      *d++ = *s++;
      asm volatile("" ::: "memory");
    }
  } else {
    // d inside [s, s + n): down, from the end, for the same reason.
    _Pragma("GCC unroll 1") for (; n >= 16; n -= 16) {
      *reinterpret_cast<Block16*>(d + n - 16) = *reinterpret_cast<const Block16*>(s + n - 16);
      asm volatile("" ::: "memory");
    }
    _Pragma("GCC unroll 1") for (; n > 0; --n) {
      d[n - 1] = s[n - 1];
      asm volatile("" ::: "memory");
    }
  }
  return dst;
}

PLAIN_STRING_OPS_CODE void* plain_memset(void* dst, int c, size_t n) noexcept {
  auto* d = static_cast<Byte*>(dst);
  const Byte b = static_cast<Byte>(c);
  const Block16 v = {b, b, b, b, b, b, b, b, b, b, b, b, b, b, b, b};
  _Pragma("GCC unroll 1") for (; n >= 16; n -= 16, d += 16) {
    *reinterpret_cast<Block16*>(d) = v;
    asm volatile("" ::: "memory");
  }
  _Pragma("GCC unroll 1") for (; n > 0; --n) {
    *d++ = b;
    asm volatile("" ::: "memory");
  }
  return dst;
}

bool in_plain_string_ops(uint64_t pc) {
  return pc >= reinterpret_cast<uintptr_t>(__start_racetrap_plain_string_ops) &&
         pc < reinterpret_cast<uintptr_t>(__stop_racetrap_plain_string_ops);
}

}  // namespace racetrap
