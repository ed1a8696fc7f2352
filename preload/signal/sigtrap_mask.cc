// sigtrap_mask.cc — the program's view of SIGTRAP in its mask (sigtrap_mask.h).
#include "sigtrap_mask.h"

#include <atomic>
#include <cerrno>
#include <cstring>

#include "real_function.h"
#include "signal_safety.h"

namespace racetrap {
namespace {

struct ProgramSigtrap {
  volatile sig_atomic_t blocked;  // the program blocked SIGTRAP in this thread
  volatile sig_atomic_t held;     // a program SIGTRAP waits in held_info
  siginfo_t held_info;
};
__attribute__((tls_model("initial-exec"))) thread_local ProgramSigtrap tls_sigtrap = {};

using SigmaskFn = int (*)(int, const sigset_t*, sigset_t*);
SigmaskFn real_sigmask_fn = nullptr;

SigmaskFn real_sigmask() {
  SigmaskFn fn = __atomic_load_n(&real_sigmask_fn, __ATOMIC_ACQUIRE);
  if (fn == nullptr) {
    fn = next_function<SigmaskFn>("pthread_sigmask");
    __atomic_store_n(&real_sigmask_fn, fn, __ATOMIC_RELEASE);
  }
  return fn;
}

bool kernel_blocks_sigtrap() {
  sigset_t now;
  return real_sigmask()(SIG_BLOCK, nullptr, &now) == 0 && sigismember(&now, SIGTRAP) == 1;
}

// Sends the held SIGTRAP to this thread again; SIGTRAP is not blocked in the
// kernel mask, so it is delivered (to the program's handler) before this returns.
void deliver_held() {
  if (!tls_sigtrap.held) return;
  siginfo_t info = tls_sigtrap.held_info;
  tls_sigtrap.held = 0;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  queue_sigtrap_to_self(&info);
}

}  // namespace

void init_sigtrap_mask() { (void)real_sigmask(); }

int real_pthread_sigmask(int how, const sigset_t* set, sigset_t* old) { return real_sigmask()(how, set, old); }

bool program_blocks_sigtrap() { return tls_sigtrap.blocked != 0; }

void set_program_blocks_sigtrap(bool blocked) {
  tls_sigtrap.blocked = blocked ? 1 : 0;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  if (!blocked) deliver_held();
}

void hold_program_sigtrap(const siginfo_t* info) {
  if (tls_sigtrap.held) return;  // a standard signal is pending at most once
  tls_sigtrap.held_info = *info;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  tls_sigtrap.held = 1;
}

bool sigtrap_held() { return tls_sigtrap.held != 0; }

bool take_held_sigtrap(siginfo_t* info) {
  if (!tls_sigtrap.held) return false;
  if (info != nullptr) *info = tls_sigtrap.held_info;
  tls_sigtrap.held = 0;
  return true;
}

void adopt_sigtrap_mask() {
  if (!kernel_blocks_sigtrap()) return;
  tls_sigtrap.blocked = 1;
  sigset_t trap;
  sigemptyset(&trap);
  sigaddset(&trap, SIGTRAP);
  real_sigmask()(SIG_UNBLOCK, &trap, nullptr);
}

RealSigtrapBlock::RealSigtrapBlock() {
  if (!tls_sigtrap.blocked) return;
  sigset_t trap;
  sigemptyset(&trap);
  sigaddset(&trap, SIGTRAP);
  active = real_sigmask()(SIG_BLOCK, &trap, nullptr) == 0;
}

RealSigtrapBlock::~RealSigtrapBlock() {
  if (!active) return;
  int saved = errno;
  sigset_t trap;
  sigemptyset(&trap);
  sigaddset(&trap, SIGTRAP);
  real_sigmask()(SIG_UNBLOCK, &trap, nullptr);
  errno = saved;
}

}  // namespace racetrap
