// decoder.h — x86-64 instruction decoding (Zydis) for sampling and trapping.
// Contract: signal-safe. No allocation, no locks, no errno changes; the caller
// supplies the code bytes (already copied safely) and the registers. Stack use is
// bounded (Zydis' decoded instruction + operands, about 1.5 KiB).
#pragma once

#include <cstddef>
#include <cstdint>

#include "memory_access.h"

namespace racetrap {

enum class DecodeStatus : uint8_t {
  kAccess,            // *out describes a memory access
  kNoMemoryOperand,   // nothing within the look-ahead touches memory
  kUndecodable,       // bytes are not a valid instruction (or too few bytes)
};

// The memory access made by the instruction at regs.rip, whose bytes are
// code[0..code_len) (code[0] is the byte at regs.rip). When that instruction touches
// no memory, up to `lookahead` following instructions are tried as long as nothing
// before them changes control flow or writes a register their address uses; the
// address is computed from `regs` (RIP-relative uses that instruction's own pc).
// Accesses that are LEA/NOP/prefetch (no real access) are not accesses.
// Stack-relative and FS/GS-relative accesses are returned with their flags set; the
// caller decides whether to skip them.
DecodeStatus decode_access_at(const CpuRegisters& regs, const uint8_t* code, size_t code_len,
                              int lookahead, MemoryAccess* out);

// At a data-breakpoint trap regs.rip is the instruction *after* the access.
// code[0..code_len) are the bytes that end just before regs.rip (code + code_len ==
// the byte at regs.rip). Finds the instruction that ends exactly at regs.rip and
// has a memory operand overlapping [watch_addr, watch_addr + watch_len); when its
// address can no longer be recomputed (it overwrote its own base register) an
// instruction with a memory operand of a plausible size is accepted. Prefers the
// longest such candidate when several decode.
DecodeStatus decode_access_ending_at(const CpuRegisters& regs, const uint8_t* code,
                                     size_t code_len, uint64_t watch_addr, uint32_t watch_len,
                                     MemoryAccess* out);

// The access of an instruction that ran just before regs.rip: where a sample
// interrupt "skids" to after a slow memory access (a contended cache line, which is
// what racing data often is). code[0..code_len) are the bytes just before regs.rip
// (32 or more give a reliable answer). Instruction boundaries are found by decoding
// from several start offsets and keeping what the majority agrees on; then the walk
// goes back from rip (at most 8 instructions, never across a branch) to the nearest
// memory access whose address registers no later instruction changed.
DecodeStatus decode_access_before(const CpuRegisters& regs, const uint8_t* code, size_t code_len,
                                  MemoryAccess* out);

// Every memory access of the basic block around regs.rip whose address can be
// computed from `regs`, for a sample to choose from (so where in the block the
// sample landed does not decide which access is watched):
// * forward: at[0..at_len) are the bytes from regs.rip on; the path the thread will
//   certainly take from rip (decode_path_accesses), at most `max_forward`
//   instructions decoded, within these bytes.
// * backward: before[0..before_len) are the bytes ending at regs.rip; the same walk
//   as decode_access_before (at most 8 instructions, never across a branch), listing
//   each access whose registers neither it nor a later instruction changed (the
//   registers after the access still give its address). This keeps the skid case
//   (the access that just retired) and lets a sample late in a block still choose
//   the accesses at its start, which the next iteration of a loop repeats.
// Accesses are listed with their flags (stack, TLS, atomic) as the decoder sees
// them; the caller filters. Forward candidates come first, in
// program order, then backward ones, nearest first. Writes at most `max_out`
// entries of out[] and returns how many. No allocation; about 1.5 KiB of stack.
int decode_block_accesses(const CpuRegisters& regs, const uint8_t* before, size_t before_len,
                          const uint8_t* at, size_t at_len, int max_forward, MemoryAccess* out,
                          int max_out);

// The memory accesses on the path the thread will certainly take from regs.rip,
// in the order it takes them, each site once: code[0..code_len) are the bytes at
// [code_pc, code_pc + code_len) and hold rip. The registers are followed through
// register-only instructions (MOV, LEA, MOVZX/MOVSX, the integer ALU on registers
// and immediates; a load's destination becomes unknown), so an access whose
// address registers were recomputed from known ones still counts. The path goes on
// past a direct jump, a conditional branch whose flags the followed registers
// decide (a counted loop's next iteration, a rarely taken branch when it is due),
// and a loop that only computes in registers (to its exit, the registers it writes
// unknown); it stops at a call, return, system call, indirect branch, a branch on
// unknown flags (a loaded value: a flag or lock word), at the first block boundary
// after an atomic instruction, and at bytes outside the buffer. The control
// transfer's own operand (a code pointer, the return address's slot) is not listed.
// At most `max_insns` instructions are decoded and max_out entries written;
// returns how many. No allocation; about 1.5 KiB of stack.
int decode_path_accesses(const CpuRegisters& regs, const uint8_t* code, size_t code_len, uint64_t code_pc,
                         int max_insns, MemoryAccess* out, int max_out);

// Which listed accesses count toward a walk's stop (decode_path_accesses_until):
// usable(access, arg).
struct AccessFilter {
  bool (*usable)(const MemoryAccess& access, const void* arg) = nullptr;
  const void* arg = nullptr;
};

// decode_path_accesses that also stops once `max_usable` of the listed accesses
// pass `filter`: each instruction decoded costs about 1,500 instructions of
// Zydis's full decode, so a caller that chooses among the first few usable
// accesses need not decode the rest of the path.
int decode_path_accesses_until(const CpuRegisters& regs, const uint8_t* code, size_t code_len, uint64_t code_pc,
                               int max_insns, MemoryAccess* out, int max_out, const AccessFilter& filter,
                               int max_usable);

}  // namespace racetrap

namespace racetrap {

// Whether the load at `load_pc` is the load of a spin-wait loop: within the next
// few instructions a branch goes back to at most kSpinLoopBytes before it, and
// nothing in the loop writes memory, calls, or writes a register other than the
// loaded one (so its address stays and only the loaded value can end the loop; a
// PAUSE, compares, a conditional exit elsewhere are fine). Such a
// load reads one word over and over until another thread changes it: a flag, a lock
// word tested before an XCHG, a ticket lock's turn. code[0..code_len) are the bytes
// at [code_pc, code_pc + code_len); they must cover the loop (the load's pc and the
// kSpinLoopBytes before it, and a few instructions after).
constexpr uint64_t kSpinLoopBytes = 32;
bool is_spin_wait_load(uint64_t load_pc, const uint8_t* code, size_t code_len, uint64_t code_pc);

}  // namespace racetrap

namespace racetrap {

// Whether the instruction at code[0..code_len) takes or tests a lock word: XCHG,
// CMPXCHG (any width), BTS/BTR/BTC with a memory operand. A LOCK ADD/XADD/INC/...
// is a counter more often than a lock (a ticket lock's waiting is its spin-wait
// load, learned on its own).
bool is_lock_word_insn(const uint8_t* code, size_t code_len);

// A LOCK-prefixed or XCHG instruction, or the load of a spin-wait loop, with a
// RIP-relative (or absolute) memory operand, found by sync_words_near: the word's
// address and size, the instruction's pc.
struct StaticAtomicWord {
  uint64_t address = 0;
  uint32_t size = 0;
  uint64_t pc = 0;
  bool spin_wait = false;  // the load of a spin-wait loop (else a lock-word atomic)
};

// Walks the code from `start_pc` (an instruction boundary) in address order, and
// once through each backward branch's target (a loop's head, where a lock is
// taken), for at most kMaxWalk instructions or until a return, collecting the
// LOCK/XCHG instructions and spin-wait loads (is_spin_wait_load) whose address
// needs no register. code[0..code_len) are
// the bytes at [code_pc, code_pc + code_len). Returns how many were stored in out.
int sync_words_near(uint64_t start_pc, const uint8_t* code, size_t code_len, uint64_t code_pc,
                      StaticAtomicWord* out, int max);

// The hand-written synchronization the thread reaches next from regs.rip: the
// first LOCK/XCHG lock-word instruction or spin-wait load (is_spin_wait_load) on
// the path ahead whose address the registers give, followed as walk_forward
// follows them (register_emulator.h), with two differences, since the word is
// only to be learned (an address the thread will use there, not an access it is
// certain to make next): a loop's back edge is left by its exit (what the loop's
// body writes unknown), so a thread inside a loop over a buffer reaches the flag
// or lock it takes after it, and a branch on unknown flags goes on in its
// fall-through. It stops at a call, return, system call, indirect branch, a
// backward jump taken before, a byte outside code[0..code_len) (the bytes at
// code_pc; the walk needs kSpinLoopBytes before a load to recognise its loop), or
// after kMaxSyncWalk instructions. Returns how many were stored in out (at most
// `max`); each address is exact for the path followed.
constexpr int kMaxSyncWalk = 64;
int sync_words_ahead(const CpuRegisters& regs, const uint8_t* code, size_t code_len, uint64_t code_pc,
                     StaticAtomicWord* out, int max);

// A plain store (written, not read) through a pointer the thread holds now: the
// operand's base register, with no index, not written by anything the walk passed
// before it. `address` is its effective address with the registers given.
struct PointerStore {
  uint64_t address = 0;
  uint32_t size = 0;
  uint64_t pc = 0;
};

// The plain stores the thread is about to make through pointers it holds (a flag
// set or cleared, an unlock store, a field filled in): walks the code from
// `start_pc` as sync_words_near does (address order, each backward branch's target
// once, until a return), for at most kMaxStoreWalk instructions, following which
// general registers have been written since `start_pc` (a call clobbers the
// caller-saved ones); `regs` are the thread's registers at `start_pc`. Stack
// (rsp/rbp-based) stores are skipped. Returns how many were stored in out.
constexpr int kMaxStoreWalk = 64;
int pointer_stores_ahead(const CpuRegisters& regs, uint64_t start_pc, const uint8_t* code, size_t code_len,
                         uint64_t code_pc, PointerStore* out, int max);

}  // namespace racetrap
