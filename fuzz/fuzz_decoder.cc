// fuzz_decoder.cc — libFuzzer target: the three decoder entry points on random
// code bytes and random registers. They run in signal handlers, so they must
// never crash, never read outside the bytes given, and give sane sizes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "decoder.h"

using namespace racetrap;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Layout: [selector][lookahead][registers: 18*8 bytes][code...]
  constexpr size_t kRegs = sizeof(uint64_t) * 18;
  if (size < 2 + kRegs) return 0;
  const uint8_t selector = data[0];
  const int lookahead = data[1] % 8;
  CpuRegisters regs;
  std::memcpy(regs.gpr, data + 2, sizeof regs.gpr);
  std::memcpy(&regs.rip, data + 2 + sizeof regs.gpr, 8);
  std::memcpy(&regs.fs_base, data + 2 + sizeof regs.gpr + 8, 8);
  regs.gs_base = 0;
  // An exact-size heap copy so ASan catches any read past the end.
  std::vector<uint8_t> code(data + 2 + kRegs, data + size);
  const uint8_t* p = code.empty() ? nullptr : code.data();
  MemoryAccess out;
  DecodeStatus st;
  switch (selector % 3) {
    case 0:
      st = decode_access_at(regs, p, code.size(), lookahead, &out);
      break;
    case 1: {
      const uint64_t watch = regs.gpr[kRax] ^ regs.gpr[kRcx];
      st = decode_access_ending_at(regs, p, code.size(), watch, 1u << (selector >> 6), &out);
      break;
    }
    default:
      st = decode_access_before(regs, p, code.size(), &out);
      break;
  }
  if (st == DecodeStatus::kAccess) {
    if (out.size == 0 || out.size > 64) std::abort();
    if (out.insn_length == 0 || out.insn_length > 15) std::abort();
  }
  return 0;
}
