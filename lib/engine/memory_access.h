// memory_access.h — what one instruction does to memory, as the decoder sees it.
// Plain data, signal-safe to create and copy.
#pragma once

#include <cstdint>

namespace racetrap {

enum class AccessKind : uint8_t { kRead = 1, kWrite = 2, kReadWrite = 3 };

inline bool writes(AccessKind k) { return (static_cast<uint8_t>(k) & 2) != 0; }
inline bool reads(AccessKind k) { return (static_cast<uint8_t>(k) & 1) != 0; }
inline const char* access_kind_name(AccessKind k) {
  return k == AccessKind::kRead ? "read" : k == AccessKind::kWrite ? "write" : "read-write";
}

struct MemoryAccess {
  uint64_t pc = 0;        // address of the instruction that makes the access
  uint64_t address = 0;   // effective address of the first byte
  uint32_t size = 0;      // bytes touched (1..64)
  uint8_t insn_length = 0;
  AccessKind kind = AccessKind::kRead;
  bool atomic = false;          // LOCK prefix, or XCHG with a memory operand
  bool stack_relative = false;  // base register is RSP or RBP-less push/pop/call/ret implicit stack
  bool segment_relative = false;  // FS/GS segment override (TLS)
  bool branch = false;  // the operand of a jump or call (a code pointer, e.g. a GOT slot)
};

// The general-purpose registers of an interrupted thread, in x86 encoding order
// (rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8..r15), plus rip and the segment bases.
struct CpuRegisters {
  uint64_t gpr[16] = {};
  uint64_t rip = 0;
  uint64_t fs_base = 0;
  uint64_t gs_base = 0;
};

// A half-open range of addresses [begin, end).
struct AddressRange {
  uint64_t begin = 0, end = 0;
  bool contains(uint64_t a) const { return a >= begin && a < end; }
};

enum Gpr : int { kRax, kRcx, kRdx, kRbx, kRsp, kRbp, kRsi, kRdi, kR8, kR9, kR10, kR11, kR12, kR13, kR14, kR15 };

}  // namespace racetrap
