// decoder_test.cc — decode_access_at / decode_access_ending_at on hand-assembled
// x86-64 bytes. Every encoding is given in AT&T syntax next to its bytes (checked
// with `objdump -D -b binary -mi386:x86-64`).
#include "decoder.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace racetrap {
namespace {

constexpr uint64_t kRip = 0x401000;
constexpr uint64_t kFsBase = 0x7f0000001000;
constexpr uint64_t kGsBase = 0x7f0000002000;

// Every register holds a distinct, recognisable value: rax = 0x100000,
// rcx = 0x200000, ..., r15 = 0x1000000; rsp is a stack-like address.
CpuRegisters Regs(uint64_t rip = kRip) {
  CpuRegisters r;
  for (int i = 0; i < 16; ++i) r.gpr[i] = 0x100000ull * (i + 1);
  r.gpr[kRsp] = 0x7ffd1000;
  r.rip = rip;
  r.fs_base = kFsBase;
  r.gs_base = kGsBase;
  return r;
}

DecodeStatus At(const std::vector<uint8_t>& code, MemoryAccess* out, int lookahead = 0,
                const CpuRegisters& regs = Regs()) {
  return decode_access_at(regs, code.data(), code.size(), lookahead, out);
}

// Bytes end at regs.rip.
DecodeStatus EndingAt(const std::vector<uint8_t>& code, const CpuRegisters& regs, uint64_t watch,
                      uint32_t watch_len, MemoryAccess* out) {
  return decode_access_ending_at(regs, code.data(), code.size(), watch, watch_len, out);
}

// Checks one plain (non-atomic, non-stack, non-TLS) access at kRip.
void ExpectAccess(const std::vector<uint8_t>& code, uint64_t address, uint32_t size,
                  AccessKind kind) {
  SCOPED_TRACE(::testing::Message() << "code length " << code.size());
  MemoryAccess m;
  ASSERT_EQ(At(code, &m), DecodeStatus::kAccess);
  EXPECT_EQ(m.pc, kRip);
  EXPECT_EQ(m.insn_length, code.size());
  EXPECT_EQ(m.address, address);
  EXPECT_EQ(m.size, size);
  EXPECT_EQ(m.kind, kind);
  EXPECT_FALSE(m.atomic);
  EXPECT_FALSE(m.stack_relative);
  EXPECT_FALSE(m.segment_relative);
}

const uint64_t vRax = Regs().gpr[kRax];
const uint64_t vRcx = Regs().gpr[kRcx];
const uint64_t vRdx = Regs().gpr[kRdx];
const uint64_t vRbx = Regs().gpr[kRbx];
const uint64_t vRsp = Regs().gpr[kRsp];
const uint64_t vRbp = Regs().gpr[kRbp];
const uint64_t vRsi = Regs().gpr[kRsi];
const uint64_t vRdi = Regs().gpr[kRdi];

// ---------------------------------------------------------------------------
// decode_access_at: plain loads and stores

TEST(DecoderMov, LoadsAndStoresOfEachWidth) {
  ExpectAccess({0x8a, 0x18}, vRax, 1, AccessKind::kRead);               // mov (%rax),%bl
  ExpectAccess({0x88, 0x18}, vRax, 1, AccessKind::kWrite);              // mov %bl,(%rax)
  ExpectAccess({0x66, 0x8b, 0x18}, vRax, 2, AccessKind::kRead);         // mov (%rax),%bx
  ExpectAccess({0x66, 0x89, 0x18}, vRax, 2, AccessKind::kWrite);        // mov %bx,(%rax)
  ExpectAccess({0x8b, 0x18}, vRax, 4, AccessKind::kRead);               // mov (%rax),%ebx
  ExpectAccess({0x89, 0x18}, vRax, 4, AccessKind::kWrite);              // mov %ebx,(%rax)
  ExpectAccess({0x48, 0x8b, 0x18}, vRax, 8, AccessKind::kRead);         // mov (%rax),%rbx
  ExpectAccess({0x48, 0x89, 0x18}, vRax, 8, AccessKind::kWrite);        // mov %rbx,(%rax)
  ExpectAccess({0x48, 0x8b, 0x41, 0x10}, vRcx + 0x10, 8, AccessKind::kRead);  // mov 0x10(%rcx),%rax
  ExpectAccess({0xc6, 0x00, 0x05}, vRax, 1, AccessKind::kWrite);        // movb $0x5,(%rax)
  ExpectAccess({0x48, 0xc7, 0x43, 0xf8, 0x01, 0x00, 0x00, 0x00}, vRbx - 8, 8,
               AccessKind::kWrite);                                     // movq $0x1,-0x8(%rbx)
  ExpectAccess({0x0f, 0xb6, 0x0a}, vRdx, 1, AccessKind::kRead);         // movzbl (%rdx),%ecx
}

TEST(DecoderMov, ExtendedRegisters) {
  // mov (%r12,%r13,2),%r14
  const CpuRegisters r = Regs();
  ExpectAccess({0x4f, 0x8b, 0x34, 0x6c}, r.gpr[kR12] + 2 * r.gpr[kR13], 8, AccessKind::kRead);
  // mov %r9d,0x40(%r15)
  ExpectAccess({0x45, 0x89, 0x4f, 0x40}, r.gpr[kR15] + 0x40, 4, AccessKind::kWrite);
}

TEST(DecoderVector, SseAndAvxMoves) {
  ExpectAccess({0xf3, 0x0f, 0x6f, 0x00}, vRax, 16, AccessKind::kRead);   // movdqu (%rax),%xmm0
  ExpectAccess({0xf3, 0x0f, 0x7f, 0x00}, vRax, 16, AccessKind::kWrite);  // movdqu %xmm0,(%rax)
  ExpectAccess({0x0f, 0x28, 0x01}, vRcx, 16, AccessKind::kRead);         // movaps (%rcx),%xmm0
  ExpectAccess({0x0f, 0x29, 0x00}, vRax, 16, AccessKind::kWrite);        // movaps %xmm0,(%rax)
  ExpectAccess({0xf2, 0x0f, 0x10, 0x00}, vRax, 8, AccessKind::kRead);    // movsd (%rax),%xmm0
  ExpectAccess({0xc5, 0xfe, 0x6f, 0x00}, vRax, 32, AccessKind::kRead);   // vmovdqu (%rax),%ymm0
  ExpectAccess({0xc5, 0xfe, 0x7f, 0x00}, vRax, 32, AccessKind::kWrite);  // vmovdqu %ymm0,(%rax)
}

// A masked access touches only the elements its mask selects (glibc's memcmp and
// strlen stay inside a string with them): never sampled as the whole vector.
TEST(DecoderVector, MaskedAccessesAreNotSampled) {
  ExpectAccess({0x62, 0xf1, 0x7f, 0x28, 0x6f, 0x16}, vRsi, 32, AccessKind::kRead);  // vmovdqu8 (%rsi),%ymm2
  MemoryAccess m;
  EXPECT_EQ(At({0x62, 0xf1, 0x7f, 0xaa, 0x6f, 0x16}, &m),
            DecodeStatus::kNoMemoryOperand);  // vmovdqu8 (%rsi),%ymm2{%k2}{z}
  EXPECT_EQ(At({0x62, 0xf1, 0x7f, 0x29, 0x7f, 0x17}, &m),
            DecodeStatus::kNoMemoryOperand);  // vmovdqu8 %ymm2,(%rdi){%k1}
  EXPECT_EQ(At({0xc4, 0xe2, 0x75, 0x2c, 0x16}, &m),
            DecodeStatus::kNoMemoryOperand);  // vmaskmovps (%rsi),%ymm1,%ymm2
  EXPECT_EQ(At({0xc4, 0xe2, 0x75, 0x8e, 0x17}, &m),
            DecodeStatus::kNoMemoryOperand);  // vpmaskmovd %ymm2,%ymm1,(%rdi)
  // With lookahead the next plain access is taken instead: mov (%rax),%rcx after the masked load.
  ASSERT_EQ(At({0x62, 0xf1, 0x7f, 0xaa, 0x6f, 0x16, 0x48, 0x8b, 0x08}, &m, 1), DecodeStatus::kAccess);
  EXPECT_EQ(m.address, vRax);
  EXPECT_EQ(m.pc, kRip + 6);
}

TEST(DecoderRipRelative, UsesTheEndOfTheInstruction) {
  // mov 0x1000(%rip),%rax — 7 bytes
  ExpectAccess({0x48, 0x8b, 0x05, 0x00, 0x10, 0x00, 0x00}, kRip + 7 + 0x1000, 8,
               AccessKind::kRead);
  // mov %rax,0x1000(%rip)
  ExpectAccess({0x48, 0x89, 0x05, 0x00, 0x10, 0x00, 0x00}, kRip + 7 + 0x1000, 8,
               AccessKind::kWrite);
  // mov -0x10(%rip),%eax — negative displacement
  ExpectAccess({0x8b, 0x05, 0xf0, 0xff, 0xff, 0xff}, kRip + 6 - 0x10, 4, AccessKind::kRead);
  // movl $0x7,0x20(%rip) — the immediate follows the displacement, still counts
  ExpectAccess({0xc7, 0x05, 0x20, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00}, kRip + 10 + 0x20, 4,
               AccessKind::kWrite);
}

TEST(DecoderSib, ScalesAndDisplacements) {
  ExpectAccess({0x48, 0x8b, 0x14, 0x08}, vRax + vRcx, 8, AccessKind::kRead);  // mov (%rax,%rcx,1),%rdx
  ExpectAccess({0x48, 0x8b, 0x14, 0x48}, vRax + 2 * vRcx, 8, AccessKind::kRead);  // mov (%rax,%rcx,2),%rdx
  ExpectAccess({0x48, 0x8b, 0x14, 0x88}, vRax + 4 * vRcx, 8, AccessKind::kRead);  // mov (%rax,%rcx,4),%rdx
  ExpectAccess({0x48, 0x8b, 0x54, 0xc8, 0x20}, vRax + 8 * vRcx + 0x20, 8,
               AccessKind::kRead);                                    // mov 0x20(%rax,%rcx,8),%rdx
  ExpectAccess({0x8b, 0x84, 0xb3, 0x00, 0xff, 0xff, 0xff}, vRbx + 4 * vRsi - 0x100, 4,
               AccessKind::kRead);                                    // mov -0x100(%rbx,%rsi,4),%eax
  ExpectAccess({0x89, 0x04, 0x8d, 0x00, 0x20, 0x00, 0x00}, 4 * vRcx + 0x2000, 4,
               AccessKind::kWrite);                                   // mov %eax,0x2000(,%rcx,4)
  ExpectAccess({0x8b, 0x04, 0x25, 0x00, 0x30, 0x60, 0x00}, 0x603000, 4,
               AccessKind::kRead);                                    // mov 0x603000,%eax (absolute)
}

TEST(DecoderSib, AddressSizeOverrideTruncatesTo32Bits) {
  CpuRegisters r = Regs();
  r.gpr[kRax] = 0xdeadbeef00010000ull;
  MemoryAccess m;
  ASSERT_EQ(At({0x67, 0x8b, 0x08}, &m, 0, r), DecodeStatus::kAccess);  // mov (%eax),%ecx
  EXPECT_EQ(m.address, 0x10000u);
  EXPECT_EQ(m.size, 4u);
  EXPECT_EQ(m.insn_length, 3);

  r.gpr[kRax] = 0xfffffffffffffff0ull;
  ASSERT_EQ(At({0x67, 0x8b, 0x48, 0x20}, &m, 0, r), DecodeStatus::kAccess);  // mov 0x20(%eax),%ecx
  EXPECT_EQ(m.address, 0x10u);  // wraps within 32 bits

  // mov (%esp),%eax is stack-relative too.
  ASSERT_EQ(At({0x67, 0x8b, 0x04, 0x24}, &m), DecodeStatus::kAccess);
  EXPECT_EQ(m.address, vRsp & 0xffffffffu);
  EXPECT_TRUE(m.stack_relative);
}

// ---------------------------------------------------------------------------
// Stack and TLS

TEST(DecoderStack, PushPopCallRetAreStackRelative) {
  struct Case {
    std::vector<uint8_t> code;
    const char* what;
    uint64_t address;
    uint32_t size;
    AccessKind kind;
  };
  const Case cases[] = {
      {{0x50}, "push %rax", vRsp - 8, 8, AccessKind::kWrite},
      {{0x66, 0x50}, "push %ax", vRsp - 2, 2, AccessKind::kWrite},
      {{0x6a, 0x01}, "push $0x1", vRsp - 8, 8, AccessKind::kWrite},
      {{0x5b}, "pop %rbx", vRsp, 8, AccessKind::kRead},
      {{0xe8, 0x00, 0x00, 0x00, 0x00}, "call .+5", vRsp - 8, 8, AccessKind::kWrite},
      {{0xc3}, "ret", vRsp, 8, AccessKind::kRead},
      {{0x9c}, "pushfq", vRsp - 8, 8, AccessKind::kWrite},
      {{0x48, 0x8b, 0x44, 0x24, 0x08}, "mov 0x8(%rsp),%rax", vRsp + 8, 8, AccessKind::kRead},
      {{0x89, 0x04, 0x24}, "mov %eax,(%rsp)", vRsp, 4, AccessKind::kWrite},
      {{0xc9}, "leave", vRbp, 8, AccessKind::kRead},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    MemoryAccess m;
    ASSERT_EQ(At(c.code, &m), DecodeStatus::kAccess);
    EXPECT_EQ(m.pc, kRip);
    EXPECT_EQ(m.insn_length, c.code.size());
    EXPECT_EQ(m.address, c.address);
    EXPECT_EQ(m.size, c.size);
    EXPECT_EQ(m.kind, c.kind);
    EXPECT_TRUE(m.stack_relative);
    EXPECT_FALSE(m.segment_relative);
    EXPECT_FALSE(m.atomic);
  }
}

TEST(DecoderStack, PushPopOfMemoryReportTheNonStackOperand) {
  ExpectAccess({0xff, 0x30}, vRax, 8, AccessKind::kRead);   // push (%rax)
  ExpectAccess({0x8f, 0x00}, vRax, 8, AccessKind::kWrite);  // pop (%rax)
  // call *0x8(%rax) reads the target from memory.
  ExpectAccess({0xff, 0x50, 0x08}, vRax + 8, 8, AccessKind::kRead);
}

TEST(DecoderTls, FsAndGsAreSegmentRelative) {
  MemoryAccess m;
  // mov %fs:0x28,%rax
  ASSERT_EQ(At({0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0x00, 0x00, 0x00}, &m), DecodeStatus::kAccess);
  EXPECT_EQ(m.address, kFsBase + 0x28);
  EXPECT_EQ(m.size, 8u);
  EXPECT_EQ(m.kind, AccessKind::kRead);
  EXPECT_TRUE(m.segment_relative);
  EXPECT_FALSE(m.stack_relative);

  // mov %gs:0xfffffffffffffff0,%rax (disp32 is sign-extended)
  ASSERT_EQ(At({0x65, 0x48, 0x8b, 0x04, 0x25, 0xf0, 0xff, 0xff, 0xff}, &m), DecodeStatus::kAccess);
  EXPECT_EQ(m.address, kGsBase - 0x10);
  EXPECT_TRUE(m.segment_relative);

  // mov %ebx,%fs:(%rax)
  ASSERT_EQ(At({0x64, 0x89, 0x18}, &m), DecodeStatus::kAccess);
  EXPECT_EQ(m.address, kFsBase + vRax);
  EXPECT_EQ(m.kind, AccessKind::kWrite);
  EXPECT_EQ(m.size, 4u);
  EXPECT_TRUE(m.segment_relative);

  // A plain ds access is not segment-relative.
  ASSERT_EQ(At({0x48, 0x8b, 0x18}, &m), DecodeStatus::kAccess);
  EXPECT_FALSE(m.segment_relative);
}

// ---------------------------------------------------------------------------
// Atomics and read-modify-write

TEST(DecoderAtomic, LockPrefixAndXchg) {
  struct Case {
    std::vector<uint8_t> code;
    const char* what;
    uint64_t address;
    uint32_t size;
    bool atomic;
  };
  const Case cases[] = {
      {{0xf0, 0x01, 0x0a}, "lock add %ecx,(%rdx)", vRdx, 4, true},
      {{0xf0, 0x48, 0x83, 0x00, 0x01}, "lock addq $0x1,(%rax)", vRax, 8, true},
      {{0xf0, 0x48, 0x0f, 0xb1, 0x0a}, "lock cmpxchg %rcx,(%rdx)", vRdx, 8, true},
      {{0xf0, 0x48, 0x0f, 0xc7, 0x0e}, "lock cmpxchg16b (%rsi)", vRsi, 16, true},
      {{0xf0, 0x0f, 0xc1, 0x03}, "lock xadd %eax,(%rbx)", vRbx, 4, true},
      {{0x48, 0x87, 0x01}, "xchg %rax,(%rcx)", vRcx, 8, true},
      {{0x86, 0x01}, "xchg %al,(%rcx)", vRcx, 1, true},
      {{0x48, 0x0f, 0xb1, 0x0a}, "cmpxchg %rcx,(%rdx) (no lock)", vRdx, 8, false},
      {{0x48, 0x01, 0x0a}, "add %rcx,(%rdx)", vRdx, 8, false},
      {{0x83, 0x28, 0x01}, "subl $0x1,(%rax)", vRax, 4, false},
      {{0xfe, 0x00}, "incb (%rax)", vRax, 1, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    MemoryAccess m;
    ASSERT_EQ(At(c.code, &m), DecodeStatus::kAccess);
    EXPECT_EQ(m.address, c.address);
    EXPECT_EQ(m.size, c.size);
    EXPECT_EQ(m.kind, AccessKind::kReadWrite);
    EXPECT_EQ(m.atomic, c.atomic);
    EXPECT_EQ(m.insn_length, c.code.size());
  }
}

TEST(DecoderAtomic, XchgBetweenRegistersIsNoAccess) {
  MemoryAccess m;
  EXPECT_EQ(At({0x48, 0x87, 0xc1}, &m), DecodeStatus::kNoMemoryOperand);  // xchg %rax,%rcx
}

TEST(DecoderKind, ReadsOfSourceOperands) {
  ExpectAccess({0x48, 0x03, 0x0a}, vRdx, 8, AccessKind::kRead);  // add (%rdx),%rcx
  ExpectAccess({0x48, 0x39, 0x0a}, vRdx, 8, AccessKind::kRead);  // cmp %rcx,(%rdx)
  ExpectAccess({0x85, 0x0a}, vRdx, 4, AccessKind::kRead);        // test %ecx,(%rdx)
}

// ---------------------------------------------------------------------------
// String instructions

TEST(DecoderString, MovsStosCmps) {
  ExpectAccess({0xa4}, vRdi, 1, AccessKind::kWrite);                    // movsb: the store
  ExpectAccess({0x48, 0xa5}, vRdi, 8, AccessKind::kWrite);              // movsq
  ExpectAccess({0xf3, 0xa4}, vRdi, 1, AccessKind::kWrite);              // rep movsb
  ExpectAccess({0xf3, 0x48, 0xa5}, vRdi, 8, AccessKind::kWrite);        // rep movsq
  ExpectAccess({0x48, 0xab}, vRdi, 8, AccessKind::kWrite);              // stos %rax,%es:(%rdi)
  ExpectAccess({0xf3, 0x48, 0xab}, vRdi, 8, AccessKind::kWrite);        // rep stos %rax,%es:(%rdi)
  ExpectAccess({0xac}, vRsi, 1, AccessKind::kRead);                     // lods %ds:(%rsi),%al
  ExpectAccess({0xa6}, vRsi, 1, AccessKind::kRead);                     // cmpsb: first operand
  ExpectAccess({0xf3, 0xa6}, vRsi, 1, AccessKind::kRead);               // repz cmpsb
}

// ---------------------------------------------------------------------------
// Not accesses

TEST(DecoderNotAccess, LeaNopPrefetchClflushGather) {
  MemoryAccess m;
  EXPECT_EQ(At({0x48, 0x8d, 0x04, 0x08}, &m), DecodeStatus::kNoMemoryOperand);  // lea (%rax,%rcx,1),%rax
  EXPECT_EQ(At({0x48, 0x8d, 0x05, 0x00, 0x10, 0x00, 0x00}, &m),
            DecodeStatus::kNoMemoryOperand);                                    // lea 0x1000(%rip),%rax
  EXPECT_EQ(At({0x0f, 0x1f, 0x40, 0x00}, &m), DecodeStatus::kNoMemoryOperand);  // nopl 0x0(%rax)
  EXPECT_EQ(At({0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00}, &m),
            DecodeStatus::kNoMemoryOperand);                                    // nopw 0x0(%rax,%rax,1)
  EXPECT_EQ(At({0x0f, 0x18, 0x00}, &m), DecodeStatus::kNoMemoryOperand);        // prefetchnta (%rax)
  EXPECT_EQ(At({0x0f, 0x18, 0x08}, &m), DecodeStatus::kNoMemoryOperand);        // prefetcht0 (%rax)
  EXPECT_EQ(At({0x0f, 0x0d, 0x08}, &m), DecodeStatus::kNoMemoryOperand);        // prefetchw (%rax)
  EXPECT_EQ(At({0x0f, 0xae, 0x38}, &m), DecodeStatus::kNoMemoryOperand);        // clflush (%rax)
  EXPECT_EQ(At({0x90}, &m), DecodeStatus::kNoMemoryOperand);                    // nop
  EXPECT_EQ(At({0x48, 0x89, 0xc3}, &m), DecodeStatus::kNoMemoryOperand);        // mov %rax,%rbx
  // vpgatherdd %ymm1,(%rax,%ymm7,4),%ymm0: VSIB has no single address.
  EXPECT_EQ(At({0xc4, 0xe2, 0x75, 0x90, 0x04, 0xb8}, &m), DecodeStatus::kNoMemoryOperand);
}

TEST(DecoderNotAccess, Undecodable) {
  MemoryAccess m;
  EXPECT_EQ(At({0xff, 0xff}, &m), DecodeStatus::kUndecodable);  // ff /7 is invalid
  EXPECT_EQ(At({0x06}, &m), DecodeStatus::kUndecodable);        // push %es: invalid in 64-bit
  EXPECT_EQ(At({0x48, 0x8b}, &m), DecodeStatus::kUndecodable);  // truncated
  EXPECT_EQ(At({}, &m), DecodeStatus::kUndecodable);            // no bytes
  EXPECT_EQ(decode_access_at(Regs(), nullptr, 0, 3, &m), DecodeStatus::kUndecodable);
}

TEST(DecoderNotAccess, OversizedOperandIsClamped) {
  MemoryAccess m;
  ASSERT_EQ(At({0x0f, 0xae, 0x00}, &m), DecodeStatus::kAccess);  // fxsave (%rax): 512 bytes
  EXPECT_EQ(m.address, vRax);
  EXPECT_EQ(m.size, 64u);
  EXPECT_EQ(m.kind, AccessKind::kWrite);
}

// ---------------------------------------------------------------------------
// Look-ahead

TEST(DecoderLookahead, FindsTheNextAccess) {
  // add %rcx,%rdx ; mov (%rax),%rbx
  MemoryAccess m;
  ASSERT_EQ(At({0x48, 0x01, 0xca, 0x48, 0x8b, 0x18}, &m, 3), DecodeStatus::kAccess);
  EXPECT_EQ(m.pc, kRip + 3);
  EXPECT_EQ(m.insn_length, 3);
  EXPECT_EQ(m.address, vRax);
  EXPECT_EQ(m.size, 8u);
  EXPECT_EQ(m.kind, AccessKind::kRead);
}

TEST(DecoderLookahead, ZeroLookaheadOnlyLooksAtRip) {
  MemoryAccess m;
  EXPECT_EQ(At({0x48, 0x01, 0xca, 0x48, 0x8b, 0x18}, &m, 0), DecodeStatus::kNoMemoryOperand);
}

TEST(DecoderLookahead, RespectsTheCount) {
  // nop ; nop ; mov %ebx,(%rax)
  const std::vector<uint8_t> code = {0x90, 0x90, 0x89, 0x18};
  MemoryAccess m;
  EXPECT_EQ(At(code, &m, 1), DecodeStatus::kNoMemoryOperand);
  ASSERT_EQ(At(code, &m, 2), DecodeStatus::kAccess);
  EXPECT_EQ(m.pc, kRip + 2);
  EXPECT_EQ(m.kind, AccessKind::kWrite);
}

TEST(DecoderLookahead, SkipsAccessWhoseBaseWasWritten) {
  MemoryAccess m;
  // mov $0x1,%rax ; mov (%rax),%rbx
  EXPECT_EQ(At({0x48, 0xc7, 0xc0, 0x01, 0x00, 0x00, 0x00, 0x48, 0x8b, 0x18}, &m, 4),
            DecodeStatus::kNoMemoryOperand);
  // mov $0x1,%eax ; mov (%rax),%rbx — a 32-bit write clobbers rax too
  EXPECT_EQ(At({0xb8, 0x01, 0x00, 0x00, 0x00, 0x48, 0x8b, 0x18}, &m, 4),
            DecodeStatus::kNoMemoryOperand);
  // mov $0x1,%al ; mov (%rax),%rbx — so does an 8-bit write
  EXPECT_EQ(At({0xb0, 0x01, 0x48, 0x8b, 0x18}, &m, 4), DecodeStatus::kNoMemoryOperand);
  // inc %rcx ; mov (%rax,%rcx,4),%edx — the index counts as well
  EXPECT_EQ(At({0x48, 0xff, 0xc1, 0x8b, 0x14, 0x88}, &m, 4), DecodeStatus::kNoMemoryOperand);
}

TEST(DecoderLookahead, HiddenRegisterWritesCount) {
  MemoryAccess m;
  // mul %rbx (writes rdx:rax) ; mov (%rdx),%rcx
  EXPECT_EQ(At({0x48, 0xf7, 0xe3, 0x48, 0x8b, 0x0a}, &m, 4), DecodeStatus::kNoMemoryOperand);
  // cpuid (writes eax, ebx, ecx, edx) ; mov (%rcx),%rax
  EXPECT_EQ(At({0x0f, 0xa2, 0x48, 0x8b, 0x01}, &m, 4), DecodeStatus::kNoMemoryOperand);
}

TEST(DecoderLookahead, SkipsClobberedCandidateAndContinues) {
  // mov $0x1,%eax ; mov (%rax),%rbx ; mov %rdx,0x8(%rcx)
  MemoryAccess m;
  ASSERT_EQ(At({0xb8, 0x01, 0x00, 0x00, 0x00, 0x48, 0x8b, 0x18, 0x48, 0x89, 0x51, 0x08}, &m, 4),
            DecodeStatus::kAccess);
  EXPECT_EQ(m.pc, kRip + 8);
  EXPECT_EQ(m.address, vRcx + 8);
  EXPECT_EQ(m.kind, AccessKind::kWrite);
  // mov $0x1,%eax ; mov (%rax),%rbx ; mov (%rbx),%rdx — the skipped load still
  // counts as writing rbx, so the third is skipped too.
  EXPECT_EQ(At({0xb8, 0x01, 0x00, 0x00, 0x00, 0x48, 0x8b, 0x18, 0x48, 0x8b, 0x13}, &m, 4),
            DecodeStatus::kNoMemoryOperand);
}

TEST(DecoderLookahead, LeaIsPassedOverAndItsDestinationTracked) {
  MemoryAccess m;
  // lea 0x8(%rax),%rcx ; mov (%rdx),%esi
  ASSERT_EQ(At({0x48, 0x8d, 0x48, 0x08, 0x8b, 0x32}, &m, 2), DecodeStatus::kAccess);
  EXPECT_EQ(m.pc, kRip + 4);
  EXPECT_EQ(m.address, vRdx);
  // lea 0x8(%rax),%rcx ; mov (%rcx),%esi
  EXPECT_EQ(At({0x48, 0x8d, 0x48, 0x08, 0x8b, 0x31}, &m, 2), DecodeStatus::kNoMemoryOperand);
}

TEST(DecoderLookahead, RipRelativeUsesItsOwnPc) {
  // nop ; mov 0x10(%rip),%rax
  MemoryAccess m;
  ASSERT_EQ(At({0x90, 0x48, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00}, &m, 2), DecodeStatus::kAccess);
  EXPECT_EQ(m.pc, kRip + 1);
  EXPECT_EQ(m.address, kRip + 1 + 7 + 0x10);
}

TEST(DecoderLookahead, StopsAtControlFlow) {
  MemoryAccess m;
  // jmp .+2 ; mov (%rax),%rbx
  EXPECT_EQ(At({0xeb, 0x00, 0x48, 0x8b, 0x18}, &m, 4), DecodeStatus::kNoMemoryOperand);
  // je .+2 ; mov (%rax),%rbx
  EXPECT_EQ(At({0x74, 0x00, 0x48, 0x8b, 0x18}, &m, 4), DecodeStatus::kNoMemoryOperand);
  // nop ; jmp *%rax ; mov (%rcx),%rbx
  EXPECT_EQ(At({0x90, 0xff, 0xe0, 0x48, 0x8b, 0x19}, &m, 4), DecodeStatus::kNoMemoryOperand);
  // syscall ; mov (%rax),%rbx
  EXPECT_EQ(At({0x0f, 0x05, 0x48, 0x8b, 0x18}, &m, 4), DecodeStatus::kNoMemoryOperand);
  // ud2 ; mov (%rax),%rbx
  EXPECT_EQ(At({0x0f, 0x0b, 0x48, 0x8b, 0x18}, &m, 4), DecodeStatus::kNoMemoryOperand);
  // int3 ; mov (%rax),%rbx
  EXPECT_EQ(At({0xcc, 0x48, 0x8b, 0x18}, &m, 4), DecodeStatus::kNoMemoryOperand);
  // loop .+0 ; mov (%rax),%rbx
  EXPECT_EQ(At({0xe2, 0x00, 0x48, 0x8b, 0x18}, &m, 4), DecodeStatus::kNoMemoryOperand);
}

TEST(DecoderLookahead, ControlTransferWithItsOwnAccessIsReported) {
  // nop ; call .+5 — the call's push is reached before control leaves.
  MemoryAccess m;
  ASSERT_EQ(At({0x90, 0xe8, 0x00, 0x00, 0x00, 0x00}, &m, 2), DecodeStatus::kAccess);
  EXPECT_EQ(m.pc, kRip + 1);
  EXPECT_TRUE(m.stack_relative);
  EXPECT_EQ(m.address, vRsp - 8);
}

TEST(DecoderLookahead, UndecodableOrTruncatedTailEndsTheSearch) {
  MemoryAccess m;
  // nop ; (invalid ff ff) ; mov (%rax),%rbx
  EXPECT_EQ(At({0x90, 0xff, 0xff, 0x48, 0x8b, 0x18}, &m, 4), DecodeStatus::kNoMemoryOperand);
  // nop ; mov (%rax),%rbx cut short
  EXPECT_EQ(At({0x90, 0x48, 0x8b}, &m, 4), DecodeStatus::kNoMemoryOperand);
}

// ---------------------------------------------------------------------------
// decode_access_ending_at (trap side: registers are those after the access)

constexpr uint64_t kTrapRip = 0x402000;

TEST(DecoderTrap, FindsStoreBeforeRip) {
  // mov %rax,%rdi ; mov %rbx,(%rax)   (rip is after the store)
  const std::vector<uint8_t> code = {0x48, 0x89, 0xc7, 0x48, 0x89, 0x18};
  MemoryAccess m;
  ASSERT_EQ(EndingAt(code, Regs(kTrapRip), vRax, 8, &m), DecodeStatus::kAccess);
  EXPECT_EQ(m.pc, kTrapRip - 3);
  EXPECT_EQ(m.insn_length, 3);
  EXPECT_EQ(m.address, vRax);
  EXPECT_EQ(m.size, 8u);
  EXPECT_EQ(m.kind, AccessKind::kWrite);
}

TEST(DecoderTrap, OverlapWithinTheWatchedRange) {
  // movzbl 0x5(%rdx),%ecx — a 1-byte read inside an 8-byte watch
  const std::vector<uint8_t> code = {0x0f, 0xb6, 0x4a, 0x05};
  MemoryAccess m;
  ASSERT_EQ(EndingAt(code, Regs(kTrapRip), vRdx, 8, &m), DecodeStatus::kAccess);
  EXPECT_EQ(m.pc, kTrapRip - 4);
  EXPECT_EQ(m.address, vRdx + 5);
  EXPECT_EQ(m.size, 1u);
  EXPECT_EQ(m.kind, AccessKind::kRead);
  // Watching the 8 bytes after it: no overlap, base not self-written.
  EXPECT_EQ(EndingAt(code, Regs(kTrapRip), vRdx + 8, 8, &m), DecodeStatus::kNoMemoryOperand);
}

TEST(DecoderTrap, LoadThatOverwritesItsOwnBase) {
  // mov (%rax),%rax — afterwards rax holds the loaded value, not the address.
  const std::vector<uint8_t> code = {0x90, 0x48, 0x8b, 0x00};
  CpuRegisters r = Regs(kTrapRip);
  const uint64_t watched = r.gpr[kRax];
  r.gpr[kRax] = 0x1234;  // the value loaded
  MemoryAccess m;
  ASSERT_EQ(EndingAt(code, r, watched, 8, &m), DecodeStatus::kAccess);
  EXPECT_EQ(m.pc, kTrapRip - 3);
  EXPECT_EQ(m.insn_length, 3);
  EXPECT_EQ(m.size, 8u);
  EXPECT_EQ(m.kind, AccessKind::kRead);
  EXPECT_EQ(m.address, watched);  // not recomputable: the watched address is reported
}

TEST(DecoderTrap, PrefersTheLongestOverlappingCandidate) {
  // lock add %ecx,(%rdx): the suffix 01 0a (add %ecx,(%rdx)) also decodes and
  // overlaps; the full, atomic instruction must win.
  MemoryAccess m;
  ASSERT_EQ(EndingAt({0x90, 0xf0, 0x01, 0x0a}, Regs(kTrapRip), vRdx, 4, &m),
            DecodeStatus::kAccess);
  EXPECT_EQ(m.pc, kTrapRip - 3);
  EXPECT_EQ(m.insn_length, 3);
  EXPECT_TRUE(m.atomic);
  EXPECT_EQ(m.kind, AccessKind::kReadWrite);

  // mov %rbx,(%rax) (8 bytes) vs. its suffix 89 18 = mov %ebx,(%rax) (4 bytes).
  ASSERT_EQ(EndingAt({0x48, 0x89, 0x18}, Regs(kTrapRip), vRax, 8, &m), DecodeStatus::kAccess);
  EXPECT_EQ(m.pc, kTrapRip - 3);
  EXPECT_EQ(m.size, 8u);
}

TEST(DecoderTrap, OverlapBeatsALongerNonOverlappingCandidate) {
  // 8b 89 18 00 00 00 = mov 0x18(%rcx),%ecx (6 bytes); its suffix 00 00 =
  // add %al,(%rax) (2 bytes) also ends at rip. The watch decides between them.
  const std::vector<uint8_t> code = {0x8b, 0x89, 0x18, 0x00, 0x00, 0x00};
  MemoryAccess m;
  ASSERT_EQ(EndingAt(code, Regs(kTrapRip), vRax, 1, &m), DecodeStatus::kAccess);
  EXPECT_EQ(m.pc, kTrapRip - 2);
  EXPECT_EQ(m.insn_length, 2);
  EXPECT_EQ(m.size, 1u);
  EXPECT_EQ(m.kind, AccessKind::kReadWrite);

  ASSERT_EQ(EndingAt(code, Regs(kTrapRip), vRcx + 0x18, 4, &m), DecodeStatus::kAccess);
  EXPECT_EQ(m.pc, kTrapRip - 6);
  EXPECT_EQ(m.insn_length, 6);
  EXPECT_EQ(m.size, 4u);
  EXPECT_EQ(m.kind, AccessKind::kRead);
}

TEST(DecoderTrap, RipRelativeUsesTheCandidatesOwnAddress) {
  // mov 0x100(%rip),%eax — its suffix 05 00 01 00 00 (add $0x100,%eax) is no access.
  const std::vector<uint8_t> code = {0x8b, 0x05, 0x00, 0x01, 0x00, 0x00};
  MemoryAccess m;
  ASSERT_EQ(EndingAt(code, Regs(kTrapRip), kTrapRip + 0x100, 4, &m), DecodeStatus::kAccess);
  EXPECT_EQ(m.pc, kTrapRip - 6);
  EXPECT_EQ(m.address, kTrapRip + 0x100);
  EXPECT_EQ(m.size, 4u);
}

TEST(DecoderTrap, StackPushAndPop) {
  MemoryAccess m;
  // push %rax: afterwards rsp points at the slot written.
  CpuRegisters r = Regs(kTrapRip);
  ASSERT_EQ(EndingAt({0x50}, r, r.gpr[kRsp], 8, &m), DecodeStatus::kAccess);
  EXPECT_EQ(m.address, r.gpr[kRsp]);
  EXPECT_EQ(m.kind, AccessKind::kWrite);
  EXPECT_TRUE(m.stack_relative);
  // pop %rbx: afterwards the slot read is just below rsp.
  ASSERT_EQ(EndingAt({0x5b}, r, r.gpr[kRsp] - 8, 8, &m), DecodeStatus::kAccess);
  EXPECT_EQ(m.address, r.gpr[kRsp] - 8);
  EXPECT_EQ(m.kind, AccessKind::kRead);
  EXPECT_TRUE(m.stack_relative);
}

TEST(DecoderTrap, StringStoreAfterItAdvancedRdi) {
  // movsq: rdi and rsi moved on by 8; accepted because it writes its own base.
  CpuRegisters r = Regs(kTrapRip);
  const uint64_t old_rdi = r.gpr[kRdi];
  r.gpr[kRdi] += 8;
  r.gpr[kRsi] += 8;
  MemoryAccess m;
  ASSERT_EQ(EndingAt({0x90, 0x48, 0xa5}, r, old_rdi, 8, &m), DecodeStatus::kAccess);
  EXPECT_EQ(m.pc, kTrapRip - 2);
  EXPECT_EQ(m.size, 8u);
  EXPECT_EQ(m.kind, AccessKind::kWrite);
}

TEST(DecoderTrap, SegmentRelative) {
  // mov %rax,%fs:0x28
  const std::vector<uint8_t> code = {0x64, 0x48, 0x89, 0x04, 0x25, 0x28, 0x00, 0x00, 0x00};
  MemoryAccess m;
  ASSERT_EQ(EndingAt(code, Regs(kTrapRip), kFsBase + 0x28, 8, &m), DecodeStatus::kAccess);
  EXPECT_EQ(m.pc, kTrapRip - 9);
  EXPECT_TRUE(m.segment_relative);
  EXPECT_EQ(m.kind, AccessKind::kWrite);
}

TEST(DecoderTrap, NothingMatches) {
  MemoryAccess m;
  // add %rcx,%rax — no memory operand in any suffix.
  EXPECT_EQ(EndingAt({0x48, 0x01, 0xc8}, Regs(kTrapRip), vRax, 8, &m),
            DecodeStatus::kNoMemoryOperand);
  // mov %rbx,(%rax) but the watch is elsewhere and rax was not overwritten.
  EXPECT_EQ(EndingAt({0x48, 0x89, 0x18}, Regs(kTrapRip), vRcx, 8, &m),
            DecodeStatus::kNoMemoryOperand);
  // A lone REX prefix is not an instruction.
  EXPECT_EQ(EndingAt({0x48}, Regs(kTrapRip), vRax, 8, &m), DecodeStatus::kUndecodable);
  EXPECT_EQ(EndingAt({}, Regs(kTrapRip), vRax, 8, &m), DecodeStatus::kUndecodable);
}

TEST(DecoderTrap, UsesAtMostFifteenBytes) {
  // 20 bytes of nop padding before mov %ebx,(%rax); only the last 15 are looked at.
  std::vector<uint8_t> code(20, 0x90);
  code.push_back(0x89);
  code.push_back(0x18);
  MemoryAccess m;
  ASSERT_EQ(EndingAt(code, Regs(kTrapRip), vRax, 4, &m), DecodeStatus::kAccess);
  EXPECT_EQ(m.pc, kTrapRip - 2);
  EXPECT_EQ(m.size, 4u);
}

// ------------------------------------------------------------ the instruction before rip
// (where a sample interrupt lands after a slow memory access)

DecodeStatus Before(const std::vector<uint8_t>& code, const CpuRegisters& regs, MemoryAccess* out) {
  return decode_access_before(regs, code.data(), code.size(), out);
}

TEST(DecoderBefore, FindsRipRelativeAddAfterACall) {
  // The racy_wrong_lock loop (objdump), 32 bytes ending right after the add:
  //   movq %r14,%xmm1 ; comisd %xmm0,%xmm1 ; jbe ; mov $0,%ebx ; mov 0(%rbp),%rdi ;
  //   call pthread_mutex_lock@plt ; add %rbx,0x2e75(%rip)
  const std::vector<uint8_t> code = {
      0x66, 0x49, 0x0f, 0x6e, 0xce, 0x66, 0x0f, 0x2f, 0xc8, 0x76, 0x2a, 0xbb, 0x00, 0x00, 0x00, 0x00,
      0x48, 0x8b, 0x7d, 0x00, 0xe8, 0x8c, 0xfe, 0xff, 0xff, 0x48, 0x01, 0x1d, 0x75, 0x2e, 0x00, 0x00};
  ASSERT_EQ(code.size(), 32u);
  MemoryAccess m;
  ASSERT_EQ(Before(code, Regs(kRip), &m), DecodeStatus::kAccess);
  EXPECT_EQ(m.pc, kRip - 7);
  EXPECT_EQ(m.address, kRip + 0x2e75);  // rip-relative to the end of the add, which is kRip
  EXPECT_EQ(m.size, 8u);
  EXPECT_EQ(m.kind, AccessKind::kReadWrite);
}

TEST(DecoderBefore, WalksBackOverRegisterOnlyInstructionsInALoop) {
  // racy_rw_flag's reader loop; the sample lands on the jne that closes it:
  //   mov %ebp,%edi ; call before ; test %eax,%eax ; je ; mov $0x3e8,%eax ;
  //   mov 0x2dcd(%rip),%edx ; cmp $1,%edx ; sbb $-1,%rbx ; sub $1,%eax | jne
  const std::vector<uint8_t> code = {0x89, 0xef, 0xe8, 0x4b, 0xff, 0xff, 0xff, 0x85, 0xc0, 0x74, 0x19,
                                     0xb8, 0xe8, 0x03, 0x00, 0x00, 0x8b, 0x15, 0xcd, 0x2d, 0x00, 0x00,
                                     0x83, 0xfa, 0x01, 0x48, 0x83, 0xdb, 0xff, 0x83, 0xe8, 0x01};
  MemoryAccess m;
  ASSERT_EQ(Before(code, Regs(kRip), &m), DecodeStatus::kAccess);
  EXPECT_EQ(m.pc, kRip - 16);                    // the load of the flag
  EXPECT_EQ(m.address, (kRip - 10) + 0x2dcd);    // rip-relative to the load's own end
  EXPECT_EQ(m.size, 4u);
  EXPECT_EQ(m.kind, AccessKind::kRead);
}

TEST(DecoderBefore, DoesNotWalkPastAChangedAddressRegister) {
  // mov (%rcx),%edx ; add $8,%rcx ; sub $1,%eax — rcx moved on after the load.
  std::vector<uint8_t> code(22, 0x90);
  code.insert(code.end(), {0x8b, 0x11, 0x48, 0x83, 0xc1, 0x08, 0x83, 0xe8, 0x01});
  code.insert(code.begin(), 0x90);
  MemoryAccess m;
  EXPECT_EQ(Before(code, Regs(kRip), &m), DecodeStatus::kNoMemoryOperand);
}

TEST(DecoderBefore, LoadThatOverwroteItsBaseIsNotGuessed) {
  // nops then mov (%rax),%rax: the address is gone with rax.
  std::vector<uint8_t> code(29, 0x90);
  code.insert(code.end(), {0x48, 0x8b, 0x00});
  MemoryAccess m;
  EXPECT_EQ(Before(code, Regs(kRip), &m), DecodeStatus::kNoMemoryOperand);
}

TEST(DecoderBefore, StoreThroughUnchangedBase) {
  // nops then mov %rbx,0x10(%rcx)
  std::vector<uint8_t> code(28, 0x90);
  code.insert(code.end(), {0x48, 0x89, 0x59, 0x10});
  MemoryAccess m;
  ASSERT_EQ(Before(code, Regs(kRip), &m), DecodeStatus::kAccess);
  EXPECT_EQ(m.pc, kRip - 4);
  EXPECT_EQ(m.address, vRcx + 0x10);
  EXPECT_EQ(m.kind, AccessKind::kWrite);
}

TEST(DecoderBefore, BranchOperandIsMarked) {
  // jmp *0x2fb2(%rip) at rip (a PLT stub): an access, but of a code pointer.
  const std::vector<uint8_t> code = {0xff, 0x25, 0xb2, 0x2f, 0x00, 0x00};
  MemoryAccess m;
  ASSERT_EQ(At(code, &m), DecodeStatus::kAccess);
  EXPECT_TRUE(m.branch);
}


// ------------------------------------------------------------ every access of the sampled block
// (decode_block_accesses: the candidates a sample chooses among)

namespace block {

// Forward from rip (objdump of the AT&T lines):
//   +0x00 addq $1,(%rbx)          private counter: rbx unchanged, a candidate
//   +0x04 mov 0x10(%rcx),%rdx     a candidate (it writes rdx only after forming its address)
//   +0x08 imul %rdx,%rax
//   +0x0c mov %rax,0x100(%rip)    rip-relative: always a candidate
//   +0x13 mov %eax,(%rdx)         rdx was loaded at +0x04 (unknown): not a candidate
//   +0x15 add $8,%rsi
//   +0x19 mov %rax,(%rsi)         rsi followed through +0x15: a candidate at rsi + 8
//   +0x1c mov %rax,0x601040       absolute: always a candidate
//   +0x24 mov %rdi,8(%rsp)        listed, flagged stack-relative (the sampler filters it)
//   +0x29 jne rip                 taken (the flags of +0x15: rsi + 8 is not 0): the
//                                 next iteration repeats the sites already listed
//   +0x2b mov %rax,0x200(%rip)    the fall-through, not taken: not listed
std::vector<uint8_t> ForwardBytes() {
  return {
    0x48, 0x83, 0x03, 0x01, 0x48, 0x8b, 0x51, 0x10, 0x48, 0x0f, 0xaf, 0xc2, 0x48, 0x89, 0x05, 0x00,
    0x01, 0x00, 0x00, 0x89, 0x02, 0x48, 0x83, 0xc6, 0x08, 0x48, 0x89, 0x06, 0x48, 0x89, 0x04, 0x25,
    0x40, 0x10, 0x60, 0x00, 0x48, 0x89, 0x7c, 0x24, 0x08, 0x75, 0xd5, 0x48, 0x89, 0x05, 0x00, 0x02,
    0x00, 0x00};
}

// Backward, 7 nops then (ending at rip):
//   -0x19 mov %rax,0x50(%rip)     rip-relative: a candidate
//   -0x12 mov (%r8),%r9           r8 unchanged since: a candidate
//   -0x0f mov 8(%r10),%r10        overwrote its own base: not a candidate
//   -0x0b mov %eax,(%r11)         r11 was changed after it: not a candidate
//   -0x08 add $1,%r11
//   -0x04 imul %r9,%rax
std::vector<uint8_t> BackwardBytes() {
  // Seven nops, then the code above (one initializer: gcc 12's -Warray-bounds
  // misreads a vector insert after a fill at -O2).
  return {0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x48, 0x89, 0x05, 0x50, 0x00, 0x00, 0x00, 0x4d, 0x8b,
          0x08, 0x4d, 0x8b, 0x52, 0x08, 0x41, 0x89, 0x03, 0x49, 0x83, 0xc3, 0x01, 0x49, 0x0f, 0xaf, 0xc1};
}

int Block(const std::vector<uint8_t>& before, const std::vector<uint8_t>& at, MemoryAccess* out, int max_out,
          int max_forward = 16) {
  return decode_block_accesses(Regs(kRip), before.data(), before.size(), at.data(), at.size(), max_forward, out,
                               max_out);
}

}  // namespace block

TEST(DecoderBlock, ForwardListsEveryAccessWhoseRegistersAreKnown) {
  MemoryAccess m[12];
  const int n = block::Block({}, block::ForwardBytes(), m, 12);
  ASSERT_EQ(n, 6);
  EXPECT_EQ(m[0].pc, kRip);
  EXPECT_EQ(m[0].address, vRbx);
  EXPECT_EQ(m[0].kind, AccessKind::kReadWrite);
  EXPECT_EQ(m[1].pc, kRip + 0x04);
  EXPECT_EQ(m[1].address, vRcx + 0x10);
  EXPECT_EQ(m[1].kind, AccessKind::kRead);
  EXPECT_EQ(m[2].pc, kRip + 0x0c);
  EXPECT_EQ(m[2].address, kRip + 0x13 + 0x100);
  EXPECT_EQ(m[2].kind, AccessKind::kWrite);
  EXPECT_EQ(m[3].pc, kRip + 0x19);  // +0x13 (rdx, loaded) is left out
  EXPECT_EQ(m[3].address, Regs().gpr[kRsi] + 8);
  EXPECT_EQ(m[4].pc, kRip + 0x1c);
  EXPECT_EQ(m[4].address, 0x601040u);
  EXPECT_EQ(m[5].pc, kRip + 0x24);
  EXPECT_TRUE(m[5].stack_relative);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(m[i].size, 8u) << i;
    EXPECT_FALSE(m[i].stack_relative) << i;
  }
}

TEST(DecoderBlock, BackwardListsAccessesStillAddressable) {
  const std::vector<uint8_t> before = block::BackwardBytes();
  ASSERT_EQ(before.size(), 32u);
  MemoryAccess m[12];
  const int n = block::Block(before, {}, m, 12);
  ASSERT_EQ(n, 2);
  EXPECT_EQ(m[0].pc, kRip - 0x12);  // nearest first
  EXPECT_EQ(m[0].address, Regs().gpr[kR8]);
  EXPECT_EQ(m[0].kind, AccessKind::kRead);
  EXPECT_EQ(m[1].pc, kRip - 0x19);
  EXPECT_EQ(m[1].address, kRip - 0x19 + 7 + 0x50);
  EXPECT_EQ(m[1].kind, AccessKind::kWrite);
}

TEST(DecoderBlock, ForwardFirstThenBackward) {
  MemoryAccess m[12];
  const int n = block::Block(block::BackwardBytes(), block::ForwardBytes(), m, 12);
  ASSERT_EQ(n, 8);
  EXPECT_EQ(m[0].pc, kRip);
  EXPECT_EQ(m[5].pc, kRip + 0x24);
  EXPECT_EQ(m[6].pc, kRip - 0x12);
  EXPECT_EQ(m[7].pc, kRip - 0x19);
}

TEST(DecoderBlock, DecodingIsBounded) {
  MemoryAccess m[12];
  // Two instructions forward: the first two accesses only.
  EXPECT_EQ(block::Block({}, block::ForwardBytes(), m, 12, /*max_forward=*/2), 2);
  // Three entries at most, whatever the block holds.
  EXPECT_EQ(block::Block(block::BackwardBytes(), block::ForwardBytes(), m, 3), 3);
  EXPECT_EQ(m[2].pc, kRip + 0x0c);
  EXPECT_EQ(block::Block(block::BackwardBytes(), block::ForwardBytes(), m, 0), 0);
}

TEST(DecoderBlock, StopsAtTheFirstControlTransfer) {
  // call (rel32) first: nothing is listed, not even the call's stack slot.
  const std::vector<uint8_t> code = {0xe8, 0x00, 0x00, 0x00, 0x00, 0x48, 0x89, 0x05, 0x00, 0x01, 0x00, 0x00};
  MemoryAccess m[4];
  EXPECT_EQ(block::Block({}, code, m, 4), 0);
  // Undecodable bytes end the walk too.
  const std::vector<uint8_t> junk = {0x0f, 0xff};
  EXPECT_EQ(block::Block({}, junk, m, 4), 0);
}


// ------------------------------------------------------------ the path a sample will certainly take
// (decode_path_accesses: past register updates, decided branches, register-only loops)

namespace path {

int Path(const std::vector<uint8_t>& code, const CpuRegisters& regs, MemoryAccess* out, int max_out = 8,
         int max_insns = 32) {
  return decode_path_accesses(regs, code.data(), code.size(), kRip, max_insns, out, max_out);
}

}  // namespace path

TEST(DecoderPath, StopsAtTheUsableAccessesAskedFor) {
  //   +0x00 mov %rax,(%rsp); +0x04 mov %rax,0x100(%rip); +0x0b mov %rax,0x200(%rip)
  //   +0x12 mov %rax,0x300(%rip); +0x19 ret
  const std::vector<uint8_t> code = {0x48, 0x89, 0x04, 0x24, 0x48, 0x89, 0x05, 0x00, 0x01, 0x00, 0x00,
                                     0x48, 0x89, 0x05, 0x00, 0x02, 0x00, 0x00, 0x48, 0x89, 0x05, 0x00,
                                     0x03, 0x00, 0x00, 0xc3};
  const CpuRegisters regs = Regs();
  const AccessFilter not_stack{[](const MemoryAccess& a, const void*) { return !a.stack_relative; }, nullptr};
  MemoryAccess m[8];
  // Two usable accesses: the stack store before them is listed, the third global store is not decoded.
  ASSERT_EQ(decode_path_accesses_until(regs, code.data(), code.size(), kRip, 32, m, 8, not_stack, 2), 3);
  EXPECT_TRUE(m[0].stack_relative);
  EXPECT_EQ(m[1].pc, kRip + 0x04);
  EXPECT_EQ(m[2].pc, kRip + 0x0b);
  // No stop asked for (0), or no filter: the whole path, as decode_path_accesses lists it.
  EXPECT_EQ(decode_path_accesses_until(regs, code.data(), code.size(), kRip, 32, m, 8, not_stack, 0), 4);
  EXPECT_EQ(decode_path_accesses_until(regs, code.data(), code.size(), kRip, 32, m, 8, AccessFilter{}, 2), 4);
  EXPECT_EQ(path::Path(code, regs, m), 4);
  // max_out still bounds the list.
  EXPECT_EQ(decode_path_accesses_until(regs, code.data(), code.size(), kRip, 32, m, 1, not_stack, 2), 1);
}

TEST(DecoderPath, ARegisterOnlyLoopIsFollowedToItsExit) {
  // A hash loop with no memory access, then the store of its result into an array
  // element whose index register the loop leaves alone:
  //   +0x00 imul %rsi,%rax; +0x04 add %rcx,%rax; +0x07 sub $1,%edx; +0x0a jne +0x00
  //   +0x0c movslq %ebx,%rbx; +0x0f shl $4,%rbx; +0x13 lea 0(%r13,%rbx),%rdx
  //   +0x18 mov %rax,8(%rdx); +0x1c ret
  const std::vector<uint8_t> code = {0x48, 0x0f, 0xaf, 0xc6, 0x48, 0x01, 0xc8, 0x83, 0xea, 0x01, 0x75,
                                     0xf4, 0x48, 0x63, 0xdb, 0x48, 0xc1, 0xe3, 0x04, 0x49, 0x8d, 0x54,
                                     0x1d, 0x00, 0x48, 0x89, 0x42, 0x08, 0xc3};
  CpuRegisters regs = Regs(kRip + 4);  // sampled inside the loop
  regs.gpr[kRbx] = 5;
  MemoryAccess m[8];
  ASSERT_EQ(path::Path(code, regs, m), 1);
  EXPECT_EQ(m[0].pc, kRip + 0x18);
  EXPECT_EQ(m[0].address, regs.gpr[kR13] + (5u << 4) + 8);
  EXPECT_EQ(m[0].kind, AccessKind::kWrite);
}

TEST(DecoderPath, ACountedLoopsNextIterationAndItsExit) {
  //   +0x00 add %rax,%rbx; +0x03 add $1,%edx; +0x06 cmp $0x40,%edx; +0x09 jne +0x0c
  //   +0x0b ret; +0x0c movslq %edx,%rax; +0x0f shl $4,%rax; +0x13 add %rcx,%rax
  //   +0x16 mov 8(%rax),%rax; +0x1a ret
  const std::vector<uint8_t> code = {0x48, 0x01, 0xc3, 0x83, 0xc2, 0x01, 0x83, 0xfa, 0x40, 0x75, 0x01, 0xc3, 0x48,
                                     0x63, 0xc2, 0x48, 0xc1, 0xe0, 0x04, 0x48, 0x01, 0xc8, 0x48, 0x8b, 0x40, 0x08,
                                     0xc3};
  CpuRegisters regs = Regs();
  regs.gpr[kRdx] = 9;  // the next element is 10
  MemoryAccess m[8];
  ASSERT_EQ(path::Path(code, regs, m), 1);
  EXPECT_EQ(m[0].pc, kRip + 0x16);
  EXPECT_EQ(m[0].address, regs.gpr[kRcx] + (10u << 4) + 8);
  EXPECT_EQ(m[0].kind, AccessKind::kRead);
  regs.gpr[kRdx] = 0x3f;  // the last one: the loop exits, nothing is certain past the ret
  EXPECT_EQ(path::Path(code, regs, m), 0);
}

TEST(DecoderPath, ARareBranchIsListedOnlyWhenItsConditionIsDue) {
  //   +0x00 add $1,%edx; +0x03 test $0x7f,%dl; +0x06 jne +0x0f
  //   +0x08 mov %rax,0x100(%rip); +0x0f ret
  const std::vector<uint8_t> code = {0x83, 0xc2, 0x01, 0xf6, 0xc2, 0x7f, 0x75, 0x07,
                                     0x48, 0x89, 0x05, 0x00, 0x01, 0x00, 0x00, 0xc3};
  CpuRegisters regs = Regs();
  regs.gpr[kRdx] = 127;  // becomes 128: the store runs
  MemoryAccess m[8];
  ASSERT_EQ(path::Path(code, regs, m), 1);
  EXPECT_EQ(m[0].pc, kRip + 0x08);
  EXPECT_EQ(m[0].address, kRip + 0x0f + 0x100);
  regs.gpr[kRdx] = 5;  // becomes 6: it does not
  EXPECT_EQ(path::Path(code, regs, m), 0);
}

TEST(DecoderPath, StopsAtABranchOnALoadedValue) {
  // A flag test: whether the store after it runs depends on memory another thread
  // may change, so it is not certain.
  //   +0x00 mov 0x100(%rip),%eax; +0x06 test %eax,%eax; +0x08 je +0x11
  //   +0x0a mov %rax,0x200(%rip); +0x11 ret
  const std::vector<uint8_t> code = {0x8b, 0x05, 0x00, 0x01, 0x00, 0x00, 0x85, 0xc0, 0x74, 0x07,
                                     0x48, 0x89, 0x05, 0x00, 0x02, 0x00, 0x00, 0xc3};
  MemoryAccess m[8];
  ASSERT_EQ(path::Path(code, Regs(), m), 1);
  EXPECT_EQ(m[0].pc, kRip);
}

TEST(DecoderPath, StopsAtTheBlockEndAfterAnAtomic) {
  // What follows a LOCK instruction's block may be ordered by it (a lock taken).
  //   +0x00 lock addl $1,0x100(%rip); +0x08 jmp +0x0a; +0x0a mov %rax,0x200(%rip)
  const std::vector<uint8_t> code = {0xf0, 0x83, 0x05, 0x00, 0x01, 0x00, 0x00, 0x01, 0xeb, 0x00,
                                     0x48, 0x89, 0x05, 0x00, 0x02, 0x00, 0x00, 0xc3};
  MemoryAccess m[8];
  ASSERT_EQ(path::Path(code, Regs(), m), 1);
  EXPECT_TRUE(m[0].atomic);
}

TEST(DecoderPath, FollowsADirectJumpAndStaysInTheBuffer) {
  //   +0x00 jmp +0x04; +0x02 ud2; +0x04 mov %rax,0x200(%rip); +0x0b jmp -0x100 (outside)
  const std::vector<uint8_t> code = {0xeb, 0x02, 0x0f, 0x0b, 0x48, 0x89, 0x05, 0x00,
                                     0x02, 0x00, 0x00, 0xe9, 0xf0, 0xfe, 0xff, 0xff};
  MemoryAccess m[8];
  ASSERT_EQ(path::Path(code, Regs(), m), 1);
  EXPECT_EQ(m[0].pc, kRip + 0x04);
}

}  // namespace
}  // namespace racetrap
