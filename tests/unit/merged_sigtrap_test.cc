// merged_sigtrap_test.cc — the kernel behaviour preload/signal/merged_traps.h
// handles, shown with two of this thread's breakpoints on one word: a single store
// counts a hit on both events, but only one SIGTRAP arrives (SIGTRAP is not a
// real-time signal: a second one sent while the first is pending is dropped); and
// the instruction that ends at the delivered trap's pc tells that the other
// register fired too (what the handler uses to recover the lost trap).
//
// A program of its own (it installs a SIGTRAP handler). Exit 0: as described;
// 1: not; 77 (skipped): this host's debug registers do not fire (one register's
// store gave no trap), where nothing can be shown.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "breakpoint_hits.h"
#include "decoder.h"
#include "perf_events.h"
#include "signal_context.h"

namespace racetrap {
namespace {

alignas(8) volatile uint32_t flag_word;

std::atomic<int> traps{0};
uint64_t delivered_data = 0;
// What the handler found: the access that ended at the trap's pc, decoded.
std::atomic<bool> decoded{false};
MemoryAccess trap_access;
uint8_t code[16];
ArmedBreakpoint armed[2];

void on_trap(int, siginfo_t* info, void* ucontext) {
  const PerfSignal perf = read_perf_signal(info);
  if (!perf.is_perf || !sig_data::is_ours(perf.data)) return;
  traps.fetch_add(1);
  delivered_data = perf.data;
  const unsigned slot = sig_data::slot(perf.data);
  if (slot > 1) return;
  const CpuRegisters regs = registers_from_ucontext(ucontext);
  const size_t before = copy_code_before(regs.rip, code);
  decoded = before != 0 && decode_access_ending_at(regs, code, before, armed[slot].address, armed[slot].length,
                                                   &trap_access) == DecodeStatus::kAccess;
}

uint64_t hits(const BreakpointSlot& slot) {
  uint64_t count = 0;
  return read(slot.fd(), &count, sizeof count) == static_cast<ssize_t>(sizeof count) ? count : ~0ull;
}

int fail(const char* what) {
  std::fprintf(stderr, "merged_sigtrap_test: %s\n", what);
  return 1;
}

int run() {
  struct sigaction act;
  std::memset(&act, 0, sizeof act);
  act.sa_sigaction = &on_trap;
  act.sa_flags = SA_SIGINFO;
  sigemptyset(&act.sa_mask);
  if (sigaction(SIGTRAP, &act, nullptr) != 0) return fail("sigaction failed");

  BreakpointSlot release, acquire;
  if (!release.open(0) || !acquire.open(1)) {
    std::printf("skipped: perf_event_open of a breakpoint failed (errno %d)\n", errno);
    return 77;
  }
  const uint64_t word = reinterpret_cast<uint64_t>(&flag_word);
  // One register first: does a store trap at all here?
  if (!release.arm(word, 4, BreakpointType::kWrite, 1)) return fail("arming one register failed");
  armed[0] = release.armed_range();
  flag_word = 1;
  if (traps == 0) {
    std::printf("skipped: a store to a watched word gave no trap (this host's debug registers do not fire)\n");
    return 77;
  }
  if (traps != 1 || hits(release) != 1) return fail("one register: not one trap and one hit");

  // Both registers on the word: the owner's release register (writes) and another
  // watch's acquire register (reads and writes), as a flag store finds them.
  traps = 0;
  if (!acquire.arm(word, 4, BreakpointType::kReadWrite, 2)) return fail("arming the second register failed");
  armed[1] = acquire.armed_range();
  flag_word = 0;
  const uint64_t release_hits = hits(release), acquire_hits = hits(acquire);
  std::printf("one store, two registers: %d SIGTRAP (register %u), hits %llu and %llu\n", traps.load(),
              sig_data::slot(delivered_data), static_cast<unsigned long long>(release_hits - 1),
              static_cast<unsigned long long>(acquire_hits));
  // QEMU's TCG (tests/guest/tcg_guest) reports the first matching register of a
  // store only, where a real CPU sets every match in DR6: there the store counts on
  // the first alone, and what racetrap relies on (one SIGTRAP, the decoded store
  // showing the other register) is still checked below.
  const bool emulated_one_match = std::getenv("RACETRAP_TEST_TCG_GUEST") != nullptr && acquire_hits == 0;
  if (release_hits != 2 || (acquire_hits != 1 && !emulated_one_match))
    return fail("the store did not count a hit on both registers");
  if (traps != 1) return fail("not exactly one SIGTRAP for the two hits (the kernel no longer merges them?)");
  if (!decoded) return fail("the instruction that ended at the trap's pc did not decode");
  const unsigned other = sig_data::slot(delivered_data) == 0 ? 1 : 0;
  if (!breakpoint_fires_on(armed[other], trap_access))
    return fail("the decoded store does not show that the other register fired");
  release.close();
  acquire.close();
  return 0;
}

}  // namespace
}  // namespace racetrap

int main() { return racetrap::run(); }
