// register_emulator.h — follows the general-purpose registers and the arithmetic
// flags through the register-only instructions that run after a sample, so the
// sampler can compute the addresses of the accesses the thread is certain to make
// next (past a register update, a taken branch whose condition the registers
// decide, or a loop that only computes in registers).
// Contract: signal-safe. No allocation, no locks, no errno changes; plain
// arithmetic on the caller's state.
#pragma once

#include <Zydis/Zydis.h>

#include <cstdint>

#include "memory_access.h"

namespace racetrap {

// What is known of the registers at one point of the path: each GPR either has a
// known 64-bit value or not; the arithmetic flags are known only after an
// emulated instruction set them from known values.
struct KnownRegisters {
  uint64_t value[16] = {};
  uint32_t known = 0;  // bit i: value[i] holds GPR i (x86 encoding order)
  bool flags_known = false;  // ZF, SF and OF
  bool cf_known = false;     // CF (INC and DEC leave it as it was)
  bool cf = false, zf = false, sf = false, of = false;

  static KnownRegisters all_of(const CpuRegisters& regs);
  bool has(int gpr) const { return gpr >= 0 && gpr < 16 && (known >> gpr & 1u) != 0; }
  void forget(uint32_t gpr_mask) { known &= ~gpr_mask; }
};

// The value of register `reg` (any width of a GPR, or RIP/EIP whose value is
// `next_pc`) when it is known; NONE reads as 0. signal-safe.
bool known_register(const KnownRegisters& k, ZydisRegister reg, uint64_t next_pc, uint64_t* value);

// The effective address of memory operand `op` of an instruction at `pc` (length
// insn.length) when its base and index are known (FS/GS-relative: with `regs`'
// bases). signal-safe.
bool known_operand_address(const ZydisDecodedInstruction& insn, const ZydisDecodedOperand& op,
                           const KnownRegisters& k, const CpuRegisters& regs, uint64_t pc, uint64_t* address);

// Applies the instruction at `pc` to `k`: MOV/MOVZX/MOVSX/MOVSXD/LEA and the
// integer ALU instructions on register and immediate operands keep their result
// and (ADD, SUB, CMP, AND, OR, XOR, TEST, INC, DEC, NEG) the flags known; a load,
// or any other instruction, leaves the registers it writes (visible or hidden)
// and, when it changes them, the flags unknown. signal-safe.
void emulate_instruction(const ZydisDecodedInstruction& insn, const ZydisDecodedOperand* ops, uint64_t pc,
                         KnownRegisters& k);

// Whether the conditional branch `insn` is taken: 1 taken, 0 not, -1 unknown
// (flags unknown, or a condition on PF or on RCX such as JRCXZ/LOOP). signal-safe.
int branch_taken(const ZydisDecodedInstruction& insn, const KnownRegisters& k);

}  // namespace racetrap
