// micro_decode.cc — what the sampling tick's decode costs outside a signal, on real
// code: the instruction starts of a few libc functions (found by decoding each
// function linearly from its symbol), each taken as a sampled pc, with the
// sampler's byte windows (32 bytes before the pc, 128 from it):
//
// * DecodePath: the forward walk to at most 12 accesses (decode_path_accesses);
// * DecodePathUntil4: the same walk stopped at its fourth access off the stack
//   (decode_path_accesses_until, as the sampler calls it);
// * DecodeBack: the backward walk over the 32 bytes before the pc
//   (decode_block_accesses with no forward bytes);
// * DecodeOne: one full decode (instruction and operands) of the instruction at
//   each start, the unit the walks are made of.
//
// Each reports the accesses a walk lists (counter "accesses"). The time is warm
// (the same few KiB of code decoded over and over); in the handler the decoder's
// tables are cold after the program ran, several times slower per instruction.
// Run under valgrind --tool=callgrind for instruction counts that do not depend on
// the machine's load (MICRO_DECODE_ITERATIONS, below).
#include <benchmark/benchmark.h>
#include <dlfcn.h>

#include <Zydis/Zydis.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include "decoder.h"

namespace {

using racetrap::CpuRegisters;
using racetrap::MemoryAccess;

constexpr size_t kBefore = 32, kAfter = 128;

struct Sample {
  uint64_t pc;
  uint8_t code[kBefore + kAfter];
};

const std::vector<Sample>& samples() {
  static const std::vector<Sample> all = [] {
    std::vector<Sample> out;
    ZydisDecoder decoder;
    ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    for (const char* name : {"qsort", "strtod", "regexec", "getaddrinfo", "fnmatch", "strftime"}) {
      const auto* fn = static_cast<const uint8_t*>(dlsym(RTLD_DEFAULT, name));
      if (fn == nullptr) continue;
      size_t offset = 0;
      for (int i = 0; i < 200; ++i) {
        ZydisDecodedInstruction insn;
        if (!ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&decoder, nullptr, fn + offset, 15, &insn))) break;
        if (offset >= kBefore) {
          Sample s;
          s.pc = reinterpret_cast<uint64_t>(fn + offset);
          std::memcpy(s.code, fn + offset - kBefore, sizeof s.code);
          out.push_back(s);
        }
        offset += insn.length;
      }
    }
    return out;
  }();
  return all;
}

CpuRegisters registers_at(uint64_t pc) {
  CpuRegisters regs;
  for (int i = 0; i < 16; ++i) regs.gpr[i] = 0x7f0000100000ull + static_cast<uint64_t>(i) * 0x1000;
  regs.rip = pc;
  return regs;
}

template <typename Walk>
void run(benchmark::State& state, Walk&& walk) {
  const auto& all = samples();
  if (all.empty()) {
    state.SkipWithError("no libc code found");
    return;
  }
  size_t i = 0;
  int64_t walks = 0, found = 0;
  for (auto _ : state) {
    const Sample& s = all[i++ % all.size()];
    found += walk(s, registers_at(s.pc));
    ++walks;
  }
  state.counters["accesses"] = benchmark::Counter(static_cast<double>(found) / static_cast<double>(walks));
  state.counters["pcs"] = static_cast<double>(all.size());
}

void DecodePath(benchmark::State& state) {
  run(state, [](const Sample& s, const CpuRegisters& regs) {
    MemoryAccess out[12];
    return racetrap::decode_path_accesses(regs, s.code, sizeof s.code, s.pc - kBefore, 32, out, 12);
  });
}

void DecodePathUntil4(benchmark::State& state) {
  const racetrap::AccessFilter off_stack{[](const MemoryAccess& a, const void*) { return !a.stack_relative && !a.branch; },
                                         nullptr};
  run(state, [&](const Sample& s, const CpuRegisters& regs) {
    MemoryAccess out[12];
    return racetrap::decode_path_accesses_until(regs, s.code, sizeof s.code, s.pc - kBefore, 32, out, 12, off_stack,
                                                4);
  });
}

void DecodeBack(benchmark::State& state) {
  run(state, [](const Sample& s, const CpuRegisters& regs) {
    MemoryAccess out[12];
    return racetrap::decode_block_accesses(regs, s.code, kBefore, nullptr, 0, 0, out, 12);
  });
}

void DecodeOne(benchmark::State& state) {
  run(state, [](const Sample& s, const CpuRegisters&) {
    ZydisDecoder decoder;
    ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    ZydisDecodedInstruction insn;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    return ZYAN_SUCCESS(ZydisDecoderDecodeFull(&decoder, s.code + kBefore, kAfter, &insn, ops)) ? 1 : 0;
  });
}

}  // namespace

// MICRO_DECODE_ITERATIONS=N runs each walk exactly N times (for callgrind: two
// runs with different N give the instructions per walk from their difference).
int main(int argc, char** argv) {
  const char* fixed = std::getenv("MICRO_DECODE_ITERATIONS");
  for (auto [name, fn] : {std::pair{"DecodePath", &DecodePath}, std::pair{"DecodePathUntil4", &DecodePathUntil4},
                          std::pair{"DecodeBack", &DecodeBack}, std::pair{"DecodeOne", &DecodeOne}}) {
    auto* b = benchmark::RegisterBenchmark(name, fn);
    if (fixed != nullptr) b->Iterations(std::atoll(fixed));
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
