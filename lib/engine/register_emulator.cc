// register_emulator.cc — see register_emulator.h. signal-safe.
#include "register_emulator.h"

namespace racetrap {
namespace {

// GPR number (0..15) of the 64-bit register enclosing `reg`, -1 for others.
int gpr_of(ZydisRegister reg) {
  if (reg == ZYDIS_REGISTER_NONE) return -1;
  const ZydisRegister big = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, reg);
  if (ZydisRegisterGetClass(big) != ZYDIS_REGCLASS_GPR64) return -1;
  const int id = ZydisRegisterGetId(big);
  return id >= 0 && id < 16 ? id : -1;
}

uint64_t width_mask(uint32_t bits) { return bits >= 64 ? ~0ull : (1ull << bits) - 1; }
bool sign_bit(uint64_t v, uint32_t bits) { return (v >> (bits - 1)) & 1u; }
uint64_t sign_extend(uint64_t v, uint32_t bits) {
  if (bits >= 64) return v;
  const uint64_t m = 1ull << (bits - 1);
  v &= width_mask(bits);
  return (v ^ m) - m;
}

// Width in bits of a register operand (8, 16, 32, 64), 0 for anything else.
uint32_t register_bits(ZydisRegister reg) {
  switch (ZydisRegisterGetClass(reg)) {
    case ZYDIS_REGCLASS_GPR64: return 64;
    case ZYDIS_REGCLASS_GPR32: return 32;
    case ZYDIS_REGCLASS_GPR16: return 16;
    case ZYDIS_REGCLASS_GPR8: return 8;
    default: return 0;
  }
}

// The value of a source operand (register or immediate) at the operand's width,
// when known. Memory operands are never known (the value is another thread's
// business).
bool source_value(const ZydisDecodedOperand& op, const KnownRegisters& k, uint64_t next_pc, uint64_t* value) {
  if (op.type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
    *value = op.imm.is_signed ? static_cast<uint64_t>(op.imm.value.s) : op.imm.value.u;
    return true;
  }
  if (op.type == ZYDIS_OPERAND_TYPE_REGISTER) return known_register(k, op.reg.value, next_pc, value);
  return false;
}

// The flags after `res = a op b` at `bits` width.
void set_logic_flags(KnownRegisters& k, uint64_t res, uint32_t bits) {
  k.flags_known = k.cf_known = true;
  k.cf = k.of = false;
  k.zf = (res & width_mask(bits)) == 0;
  k.sf = sign_bit(res, bits);
}
// The flags of res = a + b (`sub`: a - b) at `bits` width; INC and DEC keep CF.
void set_arith_flags(KnownRegisters& k, uint64_t a, uint64_t b, uint64_t res, uint32_t bits, bool keep_cf, bool sub) {
  const uint64_t m = width_mask(bits);
  const bool same_signs = sign_bit(a, bits) == sign_bit(b, bits);
  k.of = (sub ? !same_signs : same_signs) && sign_bit(res, bits) != sign_bit(a, bits);
  k.zf = (res & m) == 0;
  k.sf = sign_bit(res, bits);
  if (!keep_cf) {
    k.cf = sub ? (a & m) < (b & m) : (res & m) < (a & m);
    k.cf_known = true;
  }
  k.flags_known = true;
}
void set_add_flags(KnownRegisters& k, uint64_t a, uint64_t b, uint64_t res, uint32_t bits, bool keep_cf) {
  set_arith_flags(k, a, b, res, bits, keep_cf, /*sub=*/false);
}
void set_sub_flags(KnownRegisters& k, uint64_t a, uint64_t b, uint64_t res, uint32_t bits, bool keep_cf) {
  set_arith_flags(k, a, b, res, bits, keep_cf, /*sub=*/true);
}

bool is_high_byte(ZydisRegister reg) {
  return reg == ZYDIS_REGISTER_AH || reg == ZYDIS_REGISTER_CH || reg == ZYDIS_REGISTER_DH || reg == ZYDIS_REGISTER_BH;
}

// Stores `value` (at `bits` width) into the destination register as the CPU does:
// a 32-bit write clears the upper half, a 64-bit one replaces the register, an 8- or
// 16-bit one merges into it (known only when the register was).
void write_register(KnownRegisters& k, ZydisRegister reg, uint64_t value) {
  const int g = gpr_of(reg);
  if (g < 0) return;
  const uint32_t bits = register_bits(reg);
  if (bits == 64) {
    k.value[g] = value;
  } else if (bits == 32) {
    k.value[g] = value & 0xffffffffull;
  } else if (bits == 16 && k.has(g)) {
    k.value[g] = (k.value[g] & ~0xffffull) | (value & 0xffffull);
  } else if (bits == 8 && k.has(g) && !is_high_byte(reg)) {
    k.value[g] = (k.value[g] & ~0xffull) | (value & 0xffull);
  } else {
    k.forget(1u << g);
    return;
  }
  k.known |= 1u << g;
}

// Every GPR the instruction writes, visible or hidden.
uint32_t written_registers(const ZydisDecodedInstruction& insn, const ZydisDecodedOperand* ops) {
  uint32_t mask = 0;
  for (int i = 0; i < insn.operand_count; ++i) {
    const ZydisDecodedOperand& op = ops[i];
    if (op.type == ZYDIS_OPERAND_TYPE_REGISTER && (op.actions & ZYDIS_OPERAND_ACTION_MASK_WRITE)) {
      const int g = gpr_of(op.reg.value);
      if (g >= 0) mask |= 1u << g;
    }
  }
  return mask;
}

bool changes_flags(const ZydisDecodedInstruction& insn) {
  if (insn.cpu_flags == nullptr) return false;
  const ZydisAccessedFlagsMask any =
      insn.cpu_flags->modified | insn.cpu_flags->set_0 | insn.cpu_flags->set_1 | insn.cpu_flags->undefined;
  return (any & (ZYDIS_CPUFLAG_CF | ZYDIS_CPUFLAG_ZF | ZYDIS_CPUFLAG_SF | ZYDIS_CPUFLAG_OF | ZYDIS_CPUFLAG_PF |
                 ZYDIS_CPUFLAG_AF)) != 0;
}

// Emulates the instructions the table above names; false when the instruction is
// not one of them or an input is unknown (the caller then forgets what it writes).
bool emulate_known(const ZydisDecodedInstruction& insn, const ZydisDecodedOperand* ops, uint64_t pc,
                   KnownRegisters& k) {
  const uint64_t next_pc = pc + insn.length;
  const int visible = insn.operand_count_visible;
  if (visible < 1 || ops[0].type != ZYDIS_OPERAND_TYPE_REGISTER) return false;
  const ZydisRegister dst = ops[0].reg.value;
  const uint32_t bits = register_bits(dst);
  if (bits == 0) return false;
  const uint64_t m = width_mask(bits);
  uint64_t a = 0, b = 0;
  switch (insn.mnemonic) {
    case ZYDIS_MNEMONIC_MOV:
      if (visible != 2 || !source_value(ops[1], k, next_pc, &b)) return false;
      write_register(k, dst, b & m);
      return true;
    case ZYDIS_MNEMONIC_MOVZX:
    case ZYDIS_MNEMONIC_MOVSX:
    case ZYDIS_MNEMONIC_MOVSXD: {
      if (visible != 2 || ops[1].type != ZYDIS_OPERAND_TYPE_REGISTER) return false;
      if (!known_register(k, ops[1].reg.value, next_pc, &b)) return false;
      const uint32_t from = register_bits(ops[1].reg.value);
      if (from == 0) return false;
      b = insn.mnemonic == ZYDIS_MNEMONIC_MOVZX ? (b & width_mask(from)) : sign_extend(b, from);
      write_register(k, dst, b & m);
      return true;
    }
    case ZYDIS_MNEMONIC_LEA: {
      if (visible != 2 || ops[1].type != ZYDIS_OPERAND_TYPE_MEMORY) return false;
      CpuRegisters none;
      if (ops[1].mem.segment == ZYDIS_REGISTER_FS || ops[1].mem.segment == ZYDIS_REGISTER_GS) return false;
      if (!known_operand_address(insn, ops[1], k, none, pc, &b)) return false;
      write_register(k, dst, b & m);
      return true;
    }
    case ZYDIS_MNEMONIC_XOR:
    case ZYDIS_MNEMONIC_SUB:
      // xor r, r and sub r, r give 0 whatever r held.
      if (visible == 2 && ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER && ops[1].reg.value == dst) {
        write_register(k, dst, 0);
        set_logic_flags(k, 0, bits);
        return true;
      }
      [[fallthrough]];
    case ZYDIS_MNEMONIC_ADD:
    case ZYDIS_MNEMONIC_AND:
    case ZYDIS_MNEMONIC_OR:
    case ZYDIS_MNEMONIC_CMP:
    case ZYDIS_MNEMONIC_TEST: {
      if (visible != 2 || !known_register(k, dst, next_pc, &a) || !source_value(ops[1], k, next_pc, &b))
        return false;
      a &= m;
      b &= m;
      uint64_t res = 0;
      switch (insn.mnemonic) {
        case ZYDIS_MNEMONIC_ADD: res = (a + b) & m; set_add_flags(k, a, b, res, bits, false); break;
        case ZYDIS_MNEMONIC_SUB:
        case ZYDIS_MNEMONIC_CMP: res = (a - b) & m; set_sub_flags(k, a, b, res, bits, false); break;
        case ZYDIS_MNEMONIC_AND:
        case ZYDIS_MNEMONIC_TEST: res = a & b; set_logic_flags(k, res, bits); break;
        case ZYDIS_MNEMONIC_OR: res = a | b; set_logic_flags(k, res, bits); break;
        default: res = a ^ b; set_logic_flags(k, res, bits); break;
      }
      if (insn.mnemonic != ZYDIS_MNEMONIC_CMP && insn.mnemonic != ZYDIS_MNEMONIC_TEST) write_register(k, dst, res);
      return true;
    }
    case ZYDIS_MNEMONIC_INC:
    case ZYDIS_MNEMONIC_DEC: {
      if (!known_register(k, dst, next_pc, &a)) return false;
      a &= m;
      const bool inc = insn.mnemonic == ZYDIS_MNEMONIC_INC;
      const uint64_t res = (inc ? a + 1 : a - 1) & m;
      // CF is left as it was (known or not); the others follow the result.
      if (inc) set_add_flags(k, a, 1, res, bits, true);
      else set_sub_flags(k, a, 1, res, bits, true);
      write_register(k, dst, res);
      return true;
    }
    case ZYDIS_MNEMONIC_NEG: {
      if (!known_register(k, dst, next_pc, &a)) return false;
      a &= m;
      const uint64_t res = (0 - a) & m;
      set_sub_flags(k, 0, a, res, bits, false);
      write_register(k, dst, res);
      return true;
    }
    case ZYDIS_MNEMONIC_NOT:
      if (!known_register(k, dst, next_pc, &a)) return false;
      write_register(k, dst, ~a & m);
      return true;
    case ZYDIS_MNEMONIC_SHL:
    case ZYDIS_MNEMONIC_SHR:
    case ZYDIS_MNEMONIC_SAR: {
      if (visible != 2 || !known_register(k, dst, next_pc, &a) || !source_value(ops[1], k, next_pc, &b))
        return false;
      const uint32_t count = static_cast<uint32_t>(b) & (bits == 64 ? 63u : 31u);
      a &= m;
      uint64_t res = a;
      if (count != 0) {
        if (insn.mnemonic == ZYDIS_MNEMONIC_SHL) res = count >= bits ? 0 : (a << count) & m;
        else if (insn.mnemonic == ZYDIS_MNEMONIC_SHR) res = count >= bits ? 0 : a >> count;
        else res = static_cast<uint64_t>(static_cast<int64_t>(sign_extend(a, bits)) >> (count >= bits ? 63 : count)) & m;
        k.flags_known = k.cf_known = false;  // CF and OF from the shifted-out bits: not followed
      }
      write_register(k, dst, res);
      return true;
    }
    case ZYDIS_MNEMONIC_IMUL: {
      // imul r, r/imm (2 operands) and imul r, r, imm (3): the low half only.
      if (visible == 2) {
        if (!known_register(k, dst, next_pc, &a) || !source_value(ops[1], k, next_pc, &b)) return false;
      } else if (visible == 3) {
        if (!source_value(ops[1], k, next_pc, &a) || !source_value(ops[2], k, next_pc, &b)) return false;
      } else {
        return false;
      }
      k.flags_known = k.cf_known = false;
      write_register(k, dst, (a * b) & m);
      return true;
    }
    default:
      return false;
  }
}

}  // namespace

KnownRegisters KnownRegisters::all_of(const CpuRegisters& regs) {
  KnownRegisters k;
  for (int i = 0; i < 16; ++i) k.value[i] = regs.gpr[i];
  k.known = 0xffffu;
  return k;
}

bool known_register(const KnownRegisters& k, ZydisRegister reg, uint64_t next_pc, uint64_t* value) {
  switch (reg) {
    case ZYDIS_REGISTER_NONE: *value = 0; return true;
    case ZYDIS_REGISTER_RIP: *value = next_pc; return true;
    case ZYDIS_REGISTER_EIP: *value = next_pc & 0xffffffffu; return true;
    default: break;
  }
  const int g = gpr_of(reg);
  if (g < 0 || !k.has(g)) return false;
  const uint64_t full = k.value[g];
  switch (register_bits(reg)) {
    case 64: *value = full; return true;
    case 32: *value = full & 0xffffffffu; return true;
    case 16: *value = full & 0xffffu; return true;
    case 8: *value = is_high_byte(reg) ? (full >> 8) & 0xffu : full & 0xffu; return true;
    default: return false;
  }
}

bool known_operand_address(const ZydisDecodedInstruction& insn, const ZydisDecodedOperand& op,
                           const KnownRegisters& k, const CpuRegisters& regs, uint64_t pc, uint64_t* address) {
  const uint64_t next_pc = pc + insn.length;
  uint64_t base = 0, index = 0;
  if (!known_register(k, op.mem.base, next_pc, &base)) return false;
  if (!known_register(k, op.mem.index, next_pc, &index)) return false;
  if (register_bits(op.mem.base) == 8 || register_bits(op.mem.index) == 8) return false;
  const uint64_t scale = op.mem.index == ZYDIS_REGISTER_NONE ? 0 : (op.mem.scale ? op.mem.scale : 1);
  const uint64_t disp = op.mem.disp.has_displacement ? static_cast<uint64_t>(op.mem.disp.value) : 0;
  uint64_t ea = base + index * scale + disp;
  if (insn.address_width == 32) ea &= 0xffffffffu;
  if (insn.address_width == 16) ea &= 0xffffu;
  if (op.mem.segment == ZYDIS_REGISTER_FS) ea += regs.fs_base;
  if (op.mem.segment == ZYDIS_REGISTER_GS) ea += regs.gs_base;
  *address = ea;
  return true;
}

void emulate_instruction(const ZydisDecodedInstruction& insn, const ZydisDecodedOperand* ops, uint64_t pc,
                         KnownRegisters& k) {
  const uint32_t written = written_registers(insn, ops);
  const bool flags = changes_flags(insn);
  const KnownRegisters before = k;
  if (emulate_known(insn, ops, pc, k)) {
    // Hidden writes the table does not model (none of its instructions has one
    // besides the flags) would make the state wrong: refuse them.
    const int g = ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER ? gpr_of(ops[0].reg.value) : -1;
    if (g >= 0 && (written & ~(1u << g)) == 0) return;
    k = before;
  }
  k.forget(written);
  if (flags) k.flags_known = k.cf_known = false;
}

int branch_taken(const ZydisDecodedInstruction& insn, const KnownRegisters& k) {
  if (!k.flags_known) return -1;
  const bool uses_cf = insn.mnemonic == ZYDIS_MNEMONIC_JB || insn.mnemonic == ZYDIS_MNEMONIC_JNB ||
                       insn.mnemonic == ZYDIS_MNEMONIC_JBE || insn.mnemonic == ZYDIS_MNEMONIC_JNBE;
  if (uses_cf && !k.cf_known) return -1;
  switch (insn.mnemonic) {
    case ZYDIS_MNEMONIC_JZ: return k.zf;
    case ZYDIS_MNEMONIC_JNZ: return !k.zf;
    case ZYDIS_MNEMONIC_JB: return k.cf;
    case ZYDIS_MNEMONIC_JNB: return !k.cf;
    case ZYDIS_MNEMONIC_JBE: return k.cf || k.zf;
    case ZYDIS_MNEMONIC_JNBE: return !k.cf && !k.zf;
    case ZYDIS_MNEMONIC_JS: return k.sf;
    case ZYDIS_MNEMONIC_JNS: return !k.sf;
    case ZYDIS_MNEMONIC_JO: return k.of;
    case ZYDIS_MNEMONIC_JNO: return !k.of;
    case ZYDIS_MNEMONIC_JL: return k.sf != k.of;
    case ZYDIS_MNEMONIC_JNL: return k.sf == k.of;
    case ZYDIS_MNEMONIC_JLE: return k.zf || k.sf != k.of;
    case ZYDIS_MNEMONIC_JNLE: return !k.zf && k.sf == k.of;
    default: return -1;
  }
}

}  // namespace racetrap
