// decoder.cc — x86-64 instruction decoding (Zydis) for sampling and trapping.
//
// Everything here runs inside SIGTRAP handlers: no allocation, no locks, no stdio,
// no errno changes. Zydis' decoder only uses memcpy/memset and its own static
// tables. The largest stack object is one DecodedInsn (instruction + operands,
// about 1.1 KiB); the ZydisDecoder itself is a 20-byte POD initialised per call,
// so there is no lazy static initialisation (and no guard variable) involved.
#include "decoder.h"

#include <Zydis/Zydis.h>

#include <cstring>

#include "register_emulator.h"

namespace racetrap {
namespace {

constexpr size_t kMaxInsnLength = 15;  // architectural limit (ZYDIS_MAX_INSTRUCTION_LENGTH)
constexpr uint32_t kMaxAccessSize = 64;

struct DecodedInsn {
  ZydisDecodedInstruction insn;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
};

// signal-safe
bool decode_one(const uint8_t* code, size_t len, DecodedInsn* d) {
  if (len == 0) return false;
  if (len > kMaxInsnLength) len = kMaxInsnLength;
  ZydisDecoder decoder;
  if (!ZYAN_SUCCESS(ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64))) {
    return false;
  }
  return ZYAN_SUCCESS(ZydisDecoderDecodeFull(&decoder, code, len, &d->insn, d->ops));
}

// Length of the instruction at code[0..len), 0 when it does not decode. Cheaper
// than decode_one (no operands): for finding instruction boundaries.
// signal-safe
size_t decode_length(const uint8_t* code, size_t len) {
  if (len == 0) return 0;
  if (len > kMaxInsnLength) len = kMaxInsnLength;
  ZydisDecoder decoder;
  if (!ZYAN_SUCCESS(ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64))) return 0;
  ZydisDecoderContext context;
  ZydisDecodedInstruction insn;
  if (!ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&decoder, &context, code, len, &insn))) return 0;
  return insn.length;
}

// Instructions whose memory operand is not a data access that can race: hints,
// cache maintenance, wide NOPs, MPX bound checks.
bool is_non_access_insn(const ZydisDecodedInstruction& insn) {
  switch (insn.meta.category) {
    case ZYDIS_CATEGORY_NOP:
    case ZYDIS_CATEGORY_WIDENOP:
    case ZYDIS_CATEGORY_PREFETCH:
    case ZYDIS_CATEGORY_PREFETCHWT1:
    case ZYDIS_CATEGORY_CLFLUSHOPT:
    case ZYDIS_CATEGORY_CLWB:
    case ZYDIS_CATEGORY_CLDEMOTE:
    case ZYDIS_CATEGORY_MPX:
      return true;
    default:
      break;
  }
  switch (insn.mnemonic) {
    case ZYDIS_MNEMONIC_CLFLUSH:
    case ZYDIS_MNEMONIC_CLFLUSHOPT:
    case ZYDIS_MNEMONIC_CLWB:
    case ZYDIS_MNEMONIC_CLDEMOTE:
    case ZYDIS_MNEMONIC_LEA:
      return true;
    default:
      return false;
  }
}

// An instruction whose memory access covers only the elements a mask selects: an
// AVX-512 operation with an opmask register (k1-k7), or the AVX masked moves,
// whose mask is a vector register. Which bytes it touches is in a register the
// decoder does not read, and glibc's string functions use such loads on purpose
// to stay inside a string's bytes (memcmp's tail, strlen's last block): watched as
// the whole vector, they would make a write next to the string a race with a read
// that never happened. Not sampled (a trap on one is still decoded as it comes).
bool is_masked_access_insn(const ZydisDecodedInstruction& insn) {
  const ZydisMaskMode mode = insn.avx.mask.mode;
  if (mode != ZYDIS_MASK_MODE_INVALID && mode != ZYDIS_MASK_MODE_DISABLED) return true;
  switch (insn.mnemonic) {
    case ZYDIS_MNEMONIC_VMASKMOVPS:
    case ZYDIS_MNEMONIC_VMASKMOVPD:
    case ZYDIS_MNEMONIC_VPMASKMOVD:
    case ZYDIS_MNEMONIC_VPMASKMOVQ:
    case ZYDIS_MNEMONIC_MASKMOVDQU:
    case ZYDIS_MNEMONIC_VMASKMOVDQU:
    case ZYDIS_MNEMONIC_MASKMOVQ:
      return true;
    default:
      return false;
  }
}

// A memory operand that really reads or writes memory at a computable address.
// AGEN (lea), MIB (bndldx/bndstx) and VSIB (gather/scatter: the index is a vector
// register, so there is no single address) are excluded.
bool is_access_operand(const ZydisDecodedOperand& op) {
  if (op.type != ZYDIS_OPERAND_TYPE_MEMORY) return false;
  if (op.mem.type != ZYDIS_MEMOP_TYPE_MEM) return false;
  return (op.actions & (ZYDIS_OPERAND_ACTION_MASK_READ | ZYDIS_OPERAND_ACTION_MASK_WRITE)) != 0;
}

// GPR number (0..15, x86 encoding order) of the 64-bit register enclosing `reg`,
// or -1 when `reg` is not a general-purpose register.
int gpr_index(ZydisRegister reg) {
  if (reg == ZYDIS_REGISTER_NONE) return -1;
  const ZydisRegister big = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, reg);
  if (ZydisRegisterGetClass(big) != ZYDIS_REGCLASS_GPR64) return -1;
  const int id = ZydisRegisterGetId(big);
  return id >= 0 && id < 16 ? id : -1;
}

uint32_t gpr_bit(ZydisRegister reg) {
  const int i = gpr_index(reg);
  return i < 0 ? 0u : (1u << i);
}

// Bitmask of the GPRs (by 64-bit enclosing register) the instruction writes,
// explicitly or as a hidden operand (push/pop write rsp, mul writes rdx, ...).
uint32_t written_gprs(const DecodedInsn& d) {
  uint32_t mask = 0;
  for (int i = 0; i < d.insn.operand_count; ++i) {
    const ZydisDecodedOperand& op = d.ops[i];
    if (op.type == ZYDIS_OPERAND_TYPE_REGISTER && (op.actions & ZYDIS_OPERAND_ACTION_MASK_WRITE)) {
      mask |= gpr_bit(op.reg.value);
    }
  }
  return mask;
}

uint32_t address_gprs(const ZydisDecodedOperand& op) {
  return gpr_bit(op.mem.base) | gpr_bit(op.mem.index);
}

bool writes_rip(const DecodedInsn& d) {
  for (int i = 0; i < d.insn.operand_count; ++i) {
    const ZydisDecodedOperand& op = d.ops[i];
    if (op.type == ZYDIS_OPERAND_TYPE_REGISTER && (op.actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) &&
        ZydisRegisterGetClass(op.reg.value) == ZYDIS_REGCLASS_IP) {
      return true;
    }
  }
  return false;
}

// Anything after which the next instruction in memory is not (or not certainly)
// the next one executed.
bool is_control_flow(const DecodedInsn& d) {
  switch (d.insn.meta.category) {
    case ZYDIS_CATEGORY_CALL:
    case ZYDIS_CATEGORY_COND_BR:
    case ZYDIS_CATEGORY_UNCOND_BR:
    case ZYDIS_CATEGORY_RET:
    case ZYDIS_CATEGORY_SYSCALL:
    case ZYDIS_CATEGORY_SYSRET:
    case ZYDIS_CATEGORY_INTERRUPT:
    case ZYDIS_CATEGORY_SYSTEM:
      return true;
    default:
      break;
  }
  switch (d.insn.mnemonic) {
    case ZYDIS_MNEMONIC_UD0:
    case ZYDIS_MNEMONIC_UD1:
    case ZYDIS_MNEMONIC_UD2:
    case ZYDIS_MNEMONIC_HLT:
      return true;
    default:
      break;
  }
  return writes_rip(d);
}

bool is_rsp(ZydisRegister reg) { return gpr_index(reg) == kRsp; }

// The implicit stack slot of push/pop/call/ret/enter/pushf/popf: a hidden memory
// operand based on rsp in an instruction that also moves rsp.
bool is_implicit_stack_slot(const DecodedInsn& d, const ZydisDecodedOperand& op) {
  return op.visibility == ZYDIS_OPERAND_VISIBILITY_HIDDEN && is_rsp(op.mem.base) &&
         (written_gprs(d) & (1u << kRsp)) != 0;
}

bool is_stack_relative(const ZydisDecodedOperand& op) {
  if (is_rsp(op.mem.base)) return true;
  // Hidden SS-based operands are the thread's own frame (leave reads [rbp]).
  return op.visibility == ZYDIS_OPERAND_VISIBILITY_HIDDEN && op.mem.segment == ZYDIS_REGISTER_SS;
}

// Value of an address register. `next_pc` is the address just past the
// instruction (what RIP-relative addressing uses).
bool reg_value(ZydisRegister reg, const CpuRegisters& regs, uint64_t next_pc, uint64_t* value) {
  if (reg == ZYDIS_REGISTER_NONE) {
    *value = 0;
    return true;
  }
  switch (reg) {
    case ZYDIS_REGISTER_RIP: *value = next_pc; return true;
    case ZYDIS_REGISTER_EIP: *value = next_pc & 0xffffffffu; return true;
    case ZYDIS_REGISTER_IP: *value = next_pc & 0xffffu; return true;
    default: break;
  }
  const int id = ZydisRegisterGetId(reg);
  if (id < 0 || id >= 16) return false;
  const uint64_t full = regs.gpr[id];
  switch (ZydisRegisterGetClass(reg)) {
    case ZYDIS_REGCLASS_GPR64: *value = full; return true;
    case ZYDIS_REGCLASS_GPR32: *value = full & 0xffffffffu; return true;
    case ZYDIS_REGCLASS_GPR16: *value = full & 0xffffu; return true;
    default: return false;  // 8-bit or vector registers never form a scalar address
  }
}

uint32_t operand_bytes(const ZydisDecodedOperand& op) {
  uint32_t bytes = (static_cast<uint32_t>(op.size) + 7) / 8;
  if (bytes == 0) bytes = 1;
  if (bytes > kMaxAccessSize) bytes = kMaxAccessSize;
  return bytes;
}

// Effective (linear) address of memory operand `op` of an instruction at `pc`.
// `after` says the registers are those after the instruction executed (trap side):
// only the implicit stack slot is corrected for that, other operands whose base
// the instruction overwrote come out wrong (the caller detects that case).
bool operand_address(const DecodedInsn& d, const ZydisDecodedOperand& op, const CpuRegisters& regs,
                     uint64_t pc, bool after, uint64_t* address) {
  const uint64_t next_pc = pc + d.insn.length;
  uint64_t base = 0, index = 0;
  if (!reg_value(op.mem.base, regs, next_pc, &base)) return false;
  if (!reg_value(op.mem.index, regs, next_pc, &index)) return false;
  const uint64_t scale =
      op.mem.index == ZYDIS_REGISTER_NONE ? 0 : (op.mem.scale ? op.mem.scale : 1);
  const uint64_t disp = op.mem.disp.has_displacement ? static_cast<uint64_t>(op.mem.disp.value) : 0;
  uint64_t ea = base + index * scale + disp;
  if (is_implicit_stack_slot(d, op)) {
    // Zydis reports the slot as [rsp]. Pushes write below rsp and pops read at rsp
    // before they execute; afterwards a push's slot is at rsp and a pop's just below.
    const bool push_like = (op.actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) != 0;
    if (push_like != after) ea -= operand_bytes(op);
  }
  if (d.insn.address_width == 32) ea &= 0xffffffffu;
  if (d.insn.address_width == 16) ea &= 0xffffu;
  if (op.mem.segment == ZYDIS_REGISTER_FS) ea += regs.fs_base;
  if (op.mem.segment == ZYDIS_REGISTER_GS) ea += regs.gs_base;
  *address = ea;
  return true;
}

AccessKind operand_kind(const ZydisDecodedOperand& op) {
  const bool r = (op.actions & ZYDIS_OPERAND_ACTION_MASK_READ) != 0;
  const bool w = (op.actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) != 0;
  return r && w ? AccessKind::kReadWrite : w ? AccessKind::kWrite : AccessKind::kRead;
}

bool is_atomic(const DecodedInsn& d) {
  // XCHG with a memory operand is locked implicitly; callers only ask about
  // instructions that have one.
  return (d.insn.attributes & ZYDIS_ATTRIB_HAS_LOCK) != 0 || d.insn.mnemonic == ZYDIS_MNEMONIC_XCHG;
}

// Index of the operand that best describes the instruction's access, -1 if none
// (or a masked one: is_masked_access_insn):
// the first non-stack operand that writes (movs: the destination; pop (%rax): the
// store), else the first access operand (push (%rax): the load; cmps: the first).
int pick_operand(const DecodedInsn& d) {
  if (is_non_access_insn(d.insn) || is_masked_access_insn(d.insn)) return -1;
  int first = -1;
  for (int i = 0; i < d.insn.operand_count; ++i) {
    const ZydisDecodedOperand& op = d.ops[i];
    if (!is_access_operand(op)) continue;
    if (first < 0) first = i;
    if ((op.actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) && !is_stack_relative(op)) return i;
  }
  return first;
}

void fill_access(const DecodedInsn& d, const ZydisDecodedOperand& op, uint64_t pc, uint64_t address,
                 MemoryAccess* out) {
  out->pc = pc;
  out->address = address;
  out->size = operand_bytes(op);
  out->insn_length = d.insn.length;
  out->kind = operand_kind(op);
  out->atomic = is_atomic(d);
  out->stack_relative = is_stack_relative(op);
  out->segment_relative =
      op.mem.segment == ZYDIS_REGISTER_FS || op.mem.segment == ZYDIS_REGISTER_GS;
  out->branch = false;
}

bool ranges_overlap(uint64_t a, uint64_t a_len, uint64_t b, uint64_t b_len) {
  // Written to be correct when a range wraps around the top of the address space.
  return (a - b) < b_len || (b - a) < a_len;
}

}  // namespace

// signal-safe
DecodeStatus decode_access_at(const CpuRegisters& regs, const uint8_t* code, size_t code_len,
                              int lookahead, MemoryAccess* out) {
  DecodedInsn d;
  size_t offset = 0;
  uint32_t clobbered = 0;  // GPRs written by instructions already passed over
  for (int n = 0; n <= (lookahead > 0 ? lookahead : 0); ++n) {
    if (offset >= code_len || !decode_one(code + offset, code_len - offset, &d)) {
      return n == 0 ? DecodeStatus::kUndecodable : DecodeStatus::kNoMemoryOperand;
    }
    const uint64_t pc = regs.rip + offset;
    const int i = pick_operand(d);
    if (i >= 0 && (address_gprs(d.ops[i]) & clobbered) == 0) {
      uint64_t address = 0;
      if (operand_address(d, d.ops[i], regs, pc, /*after=*/false, &address)) {
        fill_access(d, d.ops[i], pc, address, out);
        out->branch = is_control_flow(d);
        return DecodeStatus::kAccess;
      }
    }
    // A control transfer's own access (call's push, jmp *(%rax)) counts, but
    // nothing after it is certainly executed next.
    if (is_control_flow(d)) break;
    clobbered |= written_gprs(d);
    offset += d.insn.length;
  }
  return DecodeStatus::kNoMemoryOperand;
}

// signal-safe
DecodeStatus decode_access_ending_at(const CpuRegisters& regs, const uint8_t* code,
                                     size_t code_len, uint64_t watch_addr, uint32_t watch_len,
                                     MemoryAccess* out) {
  if (code_len == 0) return DecodeStatus::kUndecodable;
  if (watch_len == 0) watch_len = 1;
  const size_t first_start = code_len > kMaxInsnLength ? code_len - kMaxInsnLength : 0;

  DecodedInsn d;
  bool any_decoded = false;
  bool have_fallback = false;
  MemoryAccess fallback;
  // Ascending start offset = descending length: the first hit in a tier is the
  // longest candidate of that tier.
  for (size_t start = first_start; start < code_len; ++start) {
    const size_t len = code_len - start;
    if (!decode_one(code + start, len, &d) || d.insn.length != len) continue;
    any_decoded = true;
    if (is_non_access_insn(d.insn)) continue;
    const uint64_t pc = regs.rip - len;
    const uint32_t self_written = written_gprs(d);

    // Operands in pick_operand's order of preference: non-stack writers first.
    int fallback_op = -1;
    for (int pass = 0; pass < 2; ++pass) {
      for (int i = 0; i < d.insn.operand_count; ++i) {
        const ZydisDecodedOperand& op = d.ops[i];
        if (!is_access_operand(op)) continue;
        const bool preferred =
            (op.actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) != 0 && !is_stack_relative(op);
        if (preferred != (pass == 0)) continue;
        uint64_t address = 0;
        if (operand_address(d, op, regs, pc, /*after=*/true, &address) &&
            ranges_overlap(address, operand_bytes(op), watch_addr, watch_len)) {
          fill_access(d, op, pc, address, out);
          return DecodeStatus::kAccess;
        }
        if (fallback_op < 0 && (address_gprs(op) & self_written) != 0) fallback_op = i;
      }
    }
    if (!have_fallback && fallback_op >= 0) {
      // The address cannot be recomputed; the trap says it touched the watch.
      fill_access(d, d.ops[fallback_op], pc, watch_addr, &fallback);
      have_fallback = true;
    }
  }
  if (have_fallback) {
    *out = fallback;
    return DecodeStatus::kAccess;
  }
  return any_decoded ? DecodeStatus::kNoMemoryOperand : DecodeStatus::kUndecodable;
}

namespace {

// Walks back from regs.rip over the instructions that end there (see
// decode_access_before) and calls visit(access) for each memory access whose
// address registers neither it nor any later instruction changed, nearest first;
// visit returns false to stop. A branch ends the walk (what precedes it in the
// bytes is not what ran before). Returns false when no instruction boundary
// ending at rip could be found.
template <typename Visit>
bool walk_back(const CpuRegisters& regs, const uint8_t* code, size_t code_len, Visit&& visit) {
  // Which instructions end at rip? x86 code decoded linearly from a wrong start
  // falls back into step within a few instructions, so decode from several starts:
  // the chains that end exactly at rip vote for their last instruction, and the
  // offsets all winning chains share are the real instruction boundaries.
  constexpr size_t kStarts = 6;
  constexpr size_t kMaxChain = 40;
  constexpr int kMaxBack = 8;  // instructions walked back from rip
  if (code_len > 255) {        // offsets are kept in bytes
    code += code_len - 255;
    code_len = 255;
  }
  uint8_t chain[kStarts][kMaxChain];
  size_t chain_len[kStarts] = {};
  bool ends_at_rip[kStarts] = {};
  // The chains fall into step within a few instructions and then decode the same
  // offsets: each offset's length is decoded once (0xff: not yet; 0: undecodable).
  uint8_t length_at[255];
  std::memset(length_at, 0xff, code_len);
  auto length_of = [&](size_t offset) -> size_t {
    if (length_at[offset] == 0xff)
      length_at[offset] = static_cast<uint8_t>(decode_length(code + offset, code_len - offset));
    return length_at[offset];
  };
  for (size_t s = 0; s < kStarts && s < code_len; ++s) {
    size_t offset = s;
    size_t length = 0;
    while (offset < code_len && (length = length_of(offset)) != 0) {
      if (chain_len[s] == kMaxChain) {  // keep the most recent boundaries
        for (size_t k = 1; k < kMaxChain; ++k) chain[s][k - 1] = chain[s][k];
        --chain_len[s];
      }
      chain[s][chain_len[s]++] = static_cast<uint8_t>(offset);
      offset += length;
    }
    ends_at_rip[s] = offset == code_len && chain_len[s] > 0;
  }
  // The last instruction most chains agree on (ties: the longer instruction).
  size_t best = kStarts;
  int best_votes = 0;
  for (size_t s = 0; s < kStarts; ++s) {
    if (!ends_at_rip[s]) continue;
    const uint8_t last = chain[s][chain_len[s] - 1];
    int v = 0;
    for (size_t o = 0; o < kStarts; ++o)
      if (ends_at_rip[o] && chain[o][chain_len[o] - 1] == last) ++v;
    if (v > best_votes || (v == best_votes && last < chain[best][chain_len[best] - 1])) {
      best = s;
      best_votes = v;
    }
  }
  if (best == kStarts) return false;
  const uint8_t best_last = chain[best][chain_len[best] - 1];
  // An offset every agreeing chain contains is a real boundary.
  auto agreed = [&](uint8_t offset) {
    for (size_t o = 0; o < kStarts; ++o) {
      if (!ends_at_rip[o] || chain[o][chain_len[o] - 1] != best_last) continue;
      bool found = false;
      for (size_t k = 0; k < chain_len[o] && !found; ++k) found = chain[o][k] == offset;
      if (!found) return false;
    }
    return true;
  };
  DecodedInsn d;
  uint32_t clobbered = 0;
  for (int back = 0; back < kMaxBack && static_cast<size_t>(back) < chain_len[best]; ++back) {
    const uint8_t offset = chain[best][chain_len[best] - 1 - back];
    if (back > 0 && (best_votes < 2 || !agreed(offset))) break;
    if (!decode_one(code + offset, code_len - offset, &d)) break;
    if (is_control_flow(d)) break;
    const uint32_t written = written_gprs(d);
    const int i = pick_operand(d);
    if (i >= 0 && (address_gprs(d.ops[i]) & (written | clobbered)) == 0) {
      const uint64_t pc = regs.rip - (code_len - offset);
      uint64_t address = 0;
      if (operand_address(d, d.ops[i], regs, pc, /*after=*/true, &address)) {
        MemoryAccess access;
        fill_access(d, d.ops[i], pc, address, &access);
        if (!visit(access)) return true;
      }
    }
    clobbered |= written;
  }
  return true;
}

// Whether [target, branch_pc) followed by the branch at branch_pc is a loop that
// only computes in registers: straight-line instructions (no other control
// transfer) with no memory operand, ending exactly at branch_pc. Its only way out
// is the branch's fall-through. *written gets the GPRs the body writes, *decoded
// how many instructions were decoded. code[0..code_len) are the bytes at code_pc.
bool is_register_only_loop(const uint8_t* code, size_t code_len, uint64_t code_pc, uint64_t target,
                           uint64_t branch_pc, uint32_t* written, int* decoded) {
  constexpr int kMaxBody = 16;
  DecodedInsn d;
  uint64_t pc = target;
  *written = 0;
  *decoded = 0;
  while (pc < branch_pc && *decoded < kMaxBody) {
    if (pc < code_pc || pc >= code_pc + code_len) return false;
    if (!decode_one(code + (pc - code_pc), code_len - (pc - code_pc), &d)) return false;
    ++*decoded;
    if (is_control_flow(d)) return false;
    for (int i = 0; i < d.insn.operand_count; ++i)
      if (d.ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY && d.ops[i].mem.type == ZYDIS_MEMOP_TYPE_MEM) return false;
    *written |= written_gprs(d);
    pc += d.insn.length;
  }
  return pc == branch_pc;
}

// The target of a direct (relative) branch, false for an indirect one.
bool direct_target(const DecodedInsn& d, uint64_t pc, uint64_t* target) {
  if (d.insn.operand_count_visible < 1) return false;
  const ZydisDecodedOperand& op = d.ops[0];
  if (op.type != ZYDIS_OPERAND_TYPE_IMMEDIATE || !op.imm.is_relative) return false;
  *target = pc + d.insn.length + static_cast<uint64_t>(op.imm.value.s);
  return true;
}

// Walks the path the thread will certainly take from regs.rip, at most
// `max_insns` instructions decoded, and calls visit(access) for each memory
// access on it whose address the registers give (register_emulator.h follows them
// through register-only instructions; a load makes its destination unknown). The
// path goes on past a direct jump, past a conditional branch whose flags the
// registers decided, and past a loop that only computes in registers (to its
// exit, with what the loop writes unknown); it stops at a call, return, system
// call, indirect branch, a branch on unknown flags, a byte outside
// code[0..code_len) (the bytes at code_pc), and at the first block boundary after
// an atomic instruction (what follows may be ordered by it). A site is visited
// once (the nearest in time). visit returns false to stop.
template <typename Visit>
void walk_forward(const CpuRegisters& regs, const uint8_t* code, size_t code_len, uint64_t code_pc, int max_insns,
                  Visit&& visit) {
  constexpr int kMaxSites = 16;
  uint64_t sites[kMaxSites];
  int site_count = 0;
  KnownRegisters k = KnownRegisters::all_of(regs);
  DecodedInsn d;
  uint64_t pc = regs.rip;
  bool after_atomic = false;
  for (int n = 0; n < max_insns; ++n) {
    if (pc < code_pc || pc >= code_pc + code_len) return;
    if (!decode_one(code + (pc - code_pc), code_len - (pc - code_pc), &d)) return;
    if (is_control_flow(d)) {
      uint64_t target = 0;
      const auto category = d.insn.meta.category;
      if (after_atomic || !direct_target(d, pc, &target)) return;
      if (category == ZYDIS_CATEGORY_UNCOND_BR) {
        pc = target;
        continue;
      }
      if (category != ZYDIS_CATEGORY_COND_BR) return;
      const uint64_t fall_through = pc + d.insn.length;
      uint32_t loop_writes = 0;
      int body = 0;
      if (target <= pc && is_register_only_loop(code, code_len, code_pc, target, pc, &loop_writes, &body)) {
        n += body;
        k.forget(loop_writes);
        k.flags_known = k.cf_known = false;
        pc = fall_through;
        continue;
      }
      const int taken = branch_taken(d.insn, k);
      if (taken < 0) return;
      pc = taken ? target : fall_through;
      continue;
    }
    const int i = pick_operand(d);
    if (i >= 0) {
      uint64_t address = 0;
      if (known_operand_address(d.insn, d.ops[i], k, regs, pc, &address)) {
        bool seen = false;
        for (int s = 0; s < site_count && !seen; ++s) seen = sites[s] == pc;
        if (!seen) {
          if (site_count < kMaxSites) sites[site_count++] = pc;
          MemoryAccess access;
          fill_access(d, d.ops[i], pc, address, &access);
          if (!visit(access)) return;
        }
      }
      after_atomic = after_atomic || is_atomic(d);
    }
    emulate_instruction(d.insn, d.ops, pc, k);
    pc += d.insn.length;
  }
}

}  // namespace

// signal-safe
DecodeStatus decode_access_before(const CpuRegisters& regs, const uint8_t* code, size_t code_len,
                                  MemoryAccess* out) {
  bool found = false;
  const bool decoded = walk_back(regs, code, code_len, [&](const MemoryAccess& access) {
    *out = access;
    found = true;
    return false;
  });
  if (!decoded) return DecodeStatus::kUndecodable;
  return found ? DecodeStatus::kAccess : DecodeStatus::kNoMemoryOperand;
}

// signal-safe
int decode_block_accesses(const CpuRegisters& regs, const uint8_t* before, size_t before_len,
                          const uint8_t* at, size_t at_len, int max_forward, MemoryAccess* out,
                          int max_out) {
  int n = decode_path_accesses(regs, at, at_len, regs.rip, max_forward, out, max_out);
  if (before_len != 0 && n < max_out) {
    walk_back(regs, before, before_len, [&](const MemoryAccess& access) {
      out[n++] = access;
      return n < max_out;
    });
  }
  return n;
}

// signal-safe
int decode_path_accesses(const CpuRegisters& regs, const uint8_t* code, size_t code_len, uint64_t code_pc,
                         int max_insns, MemoryAccess* out, int max_out) {
  int n = 0;
  if (max_out <= 0) return 0;
  walk_forward(regs, code, code_len, code_pc, max_insns, [&](const MemoryAccess& access) {
    out[n++] = access;
    return n < max_out;
  });
  return n;
}

// signal-safe
int decode_path_accesses_until(const CpuRegisters& regs, const uint8_t* code, size_t code_len, uint64_t code_pc,
                               int max_insns, MemoryAccess* out, int max_out, const AccessFilter& filter,
                               int max_usable) {
  int n = 0, usable = 0;
  if (max_out <= 0) return 0;
  walk_forward(regs, code, code_len, code_pc, max_insns, [&](const MemoryAccess& access) {
    out[n++] = access;
    if (filter.usable != nullptr && filter.usable(access, filter.arg)) ++usable;
    return n < max_out && (max_usable <= 0 || usable < max_usable);
  });
  return n;
}

}  // namespace racetrap

namespace racetrap {

namespace {

// One pass over [from, to): false when an instruction writes memory, writes a
// register other than `loaded_regs`, or changes control flow other than by the
// branches the caller allows (none here). `code` holds the bytes of
// [code_pc, code_pc + code_len).
bool quiet_straight_line(uint64_t from, uint64_t to, const uint8_t* code, size_t code_len, uint64_t code_pc,
                         uint32_t loaded_regs) {
  while (from < to) {
    if (from < code_pc || from >= code_pc + code_len) return false;
    DecodedInsn d;
    if (!decode_one(code + (from - code_pc), code_len - (from - code_pc), &d)) return false;
    if (is_control_flow(d) || (written_gprs(d) & ~loaded_regs) != 0) return false;
    for (int i = 0; i < d.insn.operand_count; ++i)
      if (is_access_operand(d.ops[i]) && (d.ops[i].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE)) return false;
    from += d.insn.length;
  }
  return from == to;
}

}  // namespace

bool is_spin_wait_load(uint64_t load_pc, const uint8_t* code, size_t code_len, uint64_t code_pc) {
  constexpr int kMaxLoopInsns = 6;
  if (load_pc < code_pc || load_pc >= code_pc + code_len) return false;
  DecodedInsn load;
  const size_t at = load_pc - code_pc;
  if (!decode_one(code + at, code_len - at, &load)) return false;
  uint32_t address_regs = 0;
  bool loads = false;
  for (int i = 0; i < load.insn.operand_count; ++i) {
    const ZydisDecodedOperand& op = load.ops[i];
    if (!is_access_operand(op)) continue;
    if (op.actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) return false;
    loads = true;
    address_regs |= address_gprs(op);
  }
  // The same address on every turn (the loop must not move its address registers),
  // and nothing but the loaded value changes in the loop: its exit can only depend
  // on that value (a loop that also counts, sums or walks is not a wait).
  const uint32_t loaded_regs = written_gprs(load);
  if (!loads || (loaded_regs & address_regs) != 0) return false;
  uint64_t pc = load_pc + load.insn.length;
  for (int n = 1; n < kMaxLoopInsns && pc < code_pc + code_len; ++n) {
    DecodedInsn d;
    if (!decode_one(code + (pc - code_pc), code_len - (pc - code_pc), &d)) return false;
    const uint64_t next = pc + d.insn.length;
    for (int i = 0; i < d.insn.operand_count; ++i)
      if (is_access_operand(d.ops[i]) && (d.ops[i].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE)) return false;
    if ((written_gprs(d) & ~loaded_regs) != 0) return false;
    pc = next;
    if (!is_control_flow(d)) continue;
    const auto category = d.insn.meta.category;
    if (category != ZYDIS_CATEGORY_COND_BR && category != ZYDIS_CATEGORY_UNCOND_BR) return false;
    if (d.ops[0].type != ZYDIS_OPERAND_TYPE_IMMEDIATE || !d.ops[0].imm.is_relative) return false;
    const uint64_t target = next + static_cast<uint64_t>(d.ops[0].imm.value.s);
    if (target <= load_pc && load_pc - target <= kSpinLoopBytes)
      return quiet_straight_line(target, load_pc, code, code_len, code_pc, loaded_regs);
    // A conditional branch elsewhere is the loop's exit (the word changed): the
    // loop goes on in the fall-through.
    if (category != ZYDIS_CATEGORY_COND_BR) return false;
  }
  return false;
}

}  // namespace racetrap

namespace racetrap {

bool is_lock_word_insn(const uint8_t* code, size_t code_len) {
  DecodedInsn d;
  if (!decode_one(code, code_len, &d)) return false;
  switch (d.insn.mnemonic) {
    case ZYDIS_MNEMONIC_XCHG:
    case ZYDIS_MNEMONIC_CMPXCHG:
    case ZYDIS_MNEMONIC_CMPXCHG8B:
    case ZYDIS_MNEMONIC_CMPXCHG16B:
    case ZYDIS_MNEMONIC_BTS:
    case ZYDIS_MNEMONIC_BTR:
    case ZYDIS_MNEMONIC_BTC:
      return true;
    default:
      return false;
  }
}

namespace {

// Where a walk of the code in address order goes on after `d` (ending at `next`):
// the target of a backward relative branch the first time the walk meets it (a
// loop's head, walked once; at most kMax of them), else the next instruction.
struct LoopHeads {
  static constexpr int kMax = 4;
  uint64_t taken[kMax] = {};
  int count = 0;

  uint64_t next_pc(const DecodedInsn& d, uint64_t next) {
    const auto category = d.insn.meta.category;
    if ((category != ZYDIS_CATEGORY_COND_BR && category != ZYDIS_CATEGORY_UNCOND_BR) ||
        d.ops[0].type != ZYDIS_OPERAND_TYPE_IMMEDIATE || !d.ops[0].imm.is_relative)
      return next;
    const uint64_t target = next + static_cast<uint64_t>(d.ops[0].imm.value.s);
    bool seen = false;
    for (int h = 0; h < count; ++h) seen |= taken[h] == target;
    if (target >= next || seen || count >= kMax) return next;
    taken[count++] = target;
    return target;
  }
};

}  // namespace

int sync_words_near(uint64_t start_pc, const uint8_t* code, size_t code_len, uint64_t code_pc,
                      StaticAtomicWord* out, int max) {
  constexpr int kMaxWalk = 160;
  LoopHeads loops;
  int found = 0;
  uint64_t pc = start_pc;
  for (int n = 0; n < kMaxWalk && found < max; ++n) {
    if (pc < code_pc || pc >= code_pc + code_len) break;
    DecodedInsn d;
    if (!decode_one(code + (pc - code_pc), code_len - (pc - code_pc), &d)) break;
    const uint64_t next = pc + d.insn.length;
    const bool atomic = ((d.insn.attributes & ZYDIS_ATTRIB_HAS_LOCK) != 0 || d.insn.mnemonic == ZYDIS_MNEMONIC_XCHG) &&
                        is_lock_word_insn(code + (pc - code_pc), code_len - (pc - code_pc));
    for (int i = 0; i < d.insn.operand_count; ++i) {
      const ZydisDecodedOperand& op = d.ops[i];
      if (!is_access_operand(op) || op.mem.index != ZYDIS_REGISTER_NONE) continue;
      if (!atomic && ((op.actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) != 0 ||
                      !is_spin_wait_load(pc, code, code_len, code_pc)))
        continue;
      uint64_t address = 0;
      if (op.mem.base == ZYDIS_REGISTER_RIP) address = next + static_cast<uint64_t>(op.mem.disp.value);
      else if (op.mem.base == ZYDIS_REGISTER_NONE) address = static_cast<uint64_t>(op.mem.disp.value);
      else continue;
      out[found++] = StaticAtomicWord{address, static_cast<uint32_t>(op.size / 8), pc, !atomic};
      break;
    }
    if (d.insn.meta.category == ZYDIS_CATEGORY_RET) break;
    pc = loops.next_pc(d, next);
  }
  return found;
}

namespace {

// The GPRs written by the instructions of [from, to] (a loop's body, its back edge
// at `to`), a call counting as writing the caller-saved ones; every GPR when a byte
// of it cannot be decoded.
uint32_t gprs_written_in(uint64_t from, uint64_t to, const uint8_t* code, size_t code_len, uint64_t code_pc) {
  constexpr uint32_t kAll = 0xffffu;
  uint32_t written = 0;
  for (uint64_t pc = from; pc <= to;) {
    if (pc < code_pc || pc >= code_pc + code_len) return kAll;
    DecodedInsn d;
    if (!decode_one(code + (pc - code_pc), code_len - (pc - code_pc), &d)) return kAll;
    written |= written_gprs(d);
    if (d.insn.meta.category == ZYDIS_CATEGORY_CALL) return kAll;
    pc += d.insn.length;
  }
  return written;
}

}  // namespace

int sync_words_ahead(const CpuRegisters& regs, const uint8_t* code, size_t code_len, uint64_t code_pc,
                     StaticAtomicWord* out, int max) {
  KnownRegisters k = KnownRegisters::all_of(regs);
  LoopHeads jumps;  // each backward jump followed once
  int found = 0;
  uint64_t pc = regs.rip;
  for (int n = 0; n < kMaxSyncWalk && found < max; ++n) {
    if (pc < code_pc || pc >= code_pc + code_len) break;
    DecodedInsn d;
    if (!decode_one(code + (pc - code_pc), code_len - (pc - code_pc), &d)) break;
    const uint64_t next = pc + d.insn.length;
    if (is_control_flow(d)) {
      uint64_t target = 0;
      if (!direct_target(d, pc, &target)) break;
      const auto category = d.insn.meta.category;
      if (category == ZYDIS_CATEGORY_UNCOND_BR) {
        if (target < next && jumps.next_pc(d, next) != target) break;  // a backward jump taken before
        pc = target;
        continue;
      }
      if (category != ZYDIS_CATEGORY_COND_BR) break;
      if (target < next) {  // a loop's back edge: on by its exit
        k.forget(gprs_written_in(target, pc, code, code_len, code_pc));
        k.flags_known = k.cf_known = false;
        pc = next;
        continue;
      }
      pc = branch_taken(d.insn, k) == 1 ? target : next;
      continue;
    }
    const bool lock_word = ((d.insn.attributes & ZYDIS_ATTRIB_HAS_LOCK) != 0 || d.insn.mnemonic == ZYDIS_MNEMONIC_XCHG) &&
                           is_lock_word_insn(code + (pc - code_pc), code_len - (pc - code_pc));
    for (int i = 0; i < d.insn.operand_count; ++i) {
      const ZydisDecodedOperand& op = d.ops[i];
      if (!is_access_operand(op) || op.visibility == ZYDIS_OPERAND_VISIBILITY_HIDDEN) continue;
      if (op.mem.segment == ZYDIS_REGISTER_FS || op.mem.segment == ZYDIS_REGISTER_GS) continue;
      if (!lock_word && ((op.actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) != 0 ||
                         !is_spin_wait_load(pc, code, code_len, code_pc)))
        continue;
      uint64_t address = 0;
      if (!known_operand_address(d.insn, op, k, regs, pc, &address)) continue;
      out[found++] = StaticAtomicWord{address, static_cast<uint32_t>(op.size / 8), pc, !lock_word};
      break;
    }
    emulate_instruction(d.insn, d.ops, pc, k);
    pc = next;
  }
  return found;
}

int pointer_stores_ahead(const CpuRegisters& regs, uint64_t start_pc, const uint8_t* code, size_t code_len,
                         uint64_t code_pc, PointerStore* out, int max) {
  // rax, rcx, rdx, rsi, rdi, r8-r11: what a call may leave changed (SysV ABI).
  constexpr uint32_t kCallerSaved = (1u << kRax) | (1u << kRcx) | (1u << kRdx) | (1u << kRsi) | (1u << kRdi) |
                                    (1u << kR8) | (1u << kR9) | (1u << kR10) | (1u << kR11);
  constexpr uint32_t kFrameRegs = (1u << kRsp) | (1u << kRbp);
  LoopHeads loops;
  int found = 0;
  uint32_t written = 0;
  uint64_t pc = start_pc;
  for (int n = 0; n < kMaxStoreWalk && found < max; ++n) {
    if (pc < code_pc || pc >= code_pc + code_len) break;
    DecodedInsn d;
    if (!decode_one(code + (pc - code_pc), code_len - (pc - code_pc), &d)) break;
    const uint64_t next = pc + d.insn.length;
    if (!is_masked_access_insn(d.insn) && !is_atomic(d)) {
      for (int i = 0; i < d.insn.operand_count; ++i) {
        const ZydisDecodedOperand& op = d.ops[i];
        if (!is_access_operand(op) || op.visibility == ZYDIS_OPERAND_VISIBILITY_HIDDEN) continue;
        if ((op.actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) == 0 || (op.actions & ZYDIS_OPERAND_ACTION_MASK_READ) != 0)
          continue;
        const uint32_t base = gpr_bit(op.mem.base);
        if (base == 0 || op.mem.index != ZYDIS_REGISTER_NONE || (base & (written | kFrameRegs)) != 0) continue;
        if (op.mem.segment == ZYDIS_REGISTER_FS || op.mem.segment == ZYDIS_REGISTER_GS) continue;
        uint64_t address = 0;
        if (!operand_address(d, op, regs, pc, /*after=*/false, &address)) continue;
        out[found++] = PointerStore{address, operand_bytes(op), pc};
        break;
      }
    }
    written |= written_gprs(d);
    const auto category = d.insn.meta.category;
    if (category == ZYDIS_CATEGORY_CALL) written |= kCallerSaved;
    if (category == ZYDIS_CATEGORY_RET) break;
    pc = loops.next_pc(d, next);
  }
  return found;
}

}  // namespace racetrap
