// breakpoint_trap_probe.cc — one real debug-register trap, through BreakpointSlot.
// Contract: note_probe_trap is signal-safe (atomics only); fire_probe_trap and the
// notice run in ordinary context.
#include "breakpoint_trap_probe.h"

#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "signal_safety.h"

namespace racetrap {
namespace {

// The generation the running probe armed (0: none running) and whether its trap came.
std::atomic<uint64_t> expected_data{0};
std::atomic<bool> trap_arrived{false};
std::atomic<uint64_t> probe_generation{0};

// The written word and, one cache line away, the word the fault injection arms.
struct alignas(64) ProbeWords {
  volatile uint64_t written;
  alignas(64) volatile uint64_t beside;
};
ProbeWords probe_words;

bool silence_injected() {
  const char* v = std::getenv("RACETRAP_TEST_SILENT_BREAKPOINTS");
  return v != nullptr && std::strcmp(v, "1") == 0;
}

}  // namespace

// signal-safe.
void note_probe_trap(uint64_t data) {
  const uint64_t want = expected_data.load(std::memory_order_acquire);
  if (want != 0 && data == want) trap_arrived.store(true, std::memory_order_release);
}

TrapProbeResult fire_probe_trap() {
  TrapProbeResult result;
  const uint64_t start = monotonic_ns();
  // The probe needs the eager open (a disarmed event re-pointed by arm()), as
  // threads had before lazy opening; restore whatever the caller had set.
  const bool lazy = BreakpointSlot::open_lazily();
  BreakpointSlot::set_open_lazily(false);
  BreakpointSlot slot;
  if (!slot.open(kProbeSlot)) {
    result.error = errno;
    BreakpointSlot::set_open_lazily(lazy);
    result.elapsed_ns = monotonic_ns() - start;
    return result;
  }
  BreakpointSlot::set_open_lazily(lazy);

  sigset_t trap_only, old_mask;
  sigemptyset(&trap_only);
  sigaddset(&trap_only, SIGTRAP);
  pthread_sigmask(SIG_UNBLOCK, &trap_only, &old_mask);

  const uint64_t generation = probe_generation.fetch_add(1, std::memory_order_relaxed) + 1;
  trap_arrived.store(false, std::memory_order_relaxed);
  expected_data.store(sig_data::make(sig_data::kBreakpoint, kProbeSlot, generation), std::memory_order_release);
  volatile uint64_t* armed = silence_injected() ? &probe_words.beside : &probe_words.written;
  if (!slot.arm(reinterpret_cast<uint64_t>(armed), sizeof(uint64_t), BreakpointType::kWrite, generation)) {
    result.error = errno;
  } else {
    probe_words.written = generation;  // the access the armed register must catch
    // The trap is synchronous (delivered on the way back to user space right after
    // the write); a few system calls give a kernel that queues it late a chance.
    for (int i = 0; i < 3 && !trap_arrived.load(std::memory_order_acquire); ++i) syscall(SYS_getppid);
    uint64_t count = 0;
    if (slot.fd() >= 0 && read(slot.fd(), &count, sizeof count) == static_cast<ssize_t>(sizeof count))
      result.count = count;
    result.outcome = trap_arrived.load(std::memory_order_acquire) ? TrapProbeOutcome::fired : TrapProbeOutcome::silent;
    slot.disarm();
  }
  expected_data.store(0, std::memory_order_release);
  slot.close();
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  result.elapsed_ns = monotonic_ns() - start;
  return result;
}

const char* silent_breakpoints_notice(bool value_change_instead) {
#define RACETRAP_SILENT_HOST                                                                                  \
  "racetrap: hardware breakpoints are accepted but never fire on this machine (a hypervisor that drops "      \
  "debug-register traps: a PVM guest, AMD SEV-ES/SNP without debug-register virtualization, WSL1, some Xen " \
  "PV versions, KVM while the VM manager debugs the guest), "
  if (value_change_instead)
    return RACETRAP_SILENT_HOST
        "so racetrap finds races by value-change sampling instead (RACETRAP_MODE=auto; it sees fewer of them: "
        "README, \"Value-change mode\"); lock-order and mutex-misuse reports work as usual (`racetrap check` "
        "says more)";
  return RACETRAP_SILENT_HOST
      "so this run has no data-race detection (RACETRAP_MODE=watchpoints; RACETRAP_MODE=auto would use "
      "value-change sampling); lock-order and mutex-misuse reports keep working (`racetrap check` says more)";
#undef RACETRAP_SILENT_HOST
}

}  // namespace racetrap
