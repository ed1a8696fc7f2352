// sigtrap_mask.h — racetrap keeps SIGTRAP deliverable in every thread, and keeps
// the program's view of SIGTRAP in its signal mask.
//
// Sampling ticks and watchpoint traps are SIGTRAPs; a thread that blocks SIGTRAP
// ("block everything in workers, handle signals in one thread") would never be
// sampled. So the mask interposers (interpose_sigmask.cc) never let SIGTRAP into
// the kernel's mask: they record, per thread, whether the *program* blocks it,
// and report that bit back in every mask the program reads. A SIGTRAP that is not
// racetrap's (raise, kill, pthread_kill) arriving while the program blocks it is
// held here, as the kernel would keep it pending, and delivered to the program's
// handler the moment the program unblocks SIGTRAP (or taken by its sigwait and
// shown by sigpending). A kernel trap the program causes itself (int3) with
// SIGTRAP blocked is handled as the kernel does: the default action.
// The kernel's own SIGTRAP blocking still happens where the program cannot see
// it (inside a signal handler whose sa_mask holds SIGTRAP): a sample arriving
// there stays pending and is ignored when it is delivered late.
// Contract: every function here is signal-safe (static TLS, system calls).
#pragma once

#include <signal.h>

namespace racetrap {

// signal-safe. Whether the program blocked SIGTRAP in this thread through the
// mask calls (while the kernel mask lets it through).
bool program_blocks_sigtrap();

// signal-safe. Sets the program's view; unblocking delivers a held SIGTRAP.
void set_program_blocks_sigtrap(bool blocked);

// signal-safe. Keeps a program SIGTRAP that arrived while the program blocks
// SIGTRAP (one, like a pending standard signal).
void hold_program_sigtrap(const siginfo_t* info);

// signal-safe. Takes the held SIGTRAP, if any (for sigwait and friends).
bool take_held_sigtrap(siginfo_t* info);
bool sigtrap_held();

// signal-safe. A thread starting under racetrap (the main thread at start-up, a
// new thread before its start routine): a SIGTRAP blocked in the kernel mask
// (inherited from the creator or across exec) becomes the program's view, and
// the kernel mask lets SIGTRAP through.
void adopt_sigtrap_mask();

// signal-safe. The kernel mask call, with glibc's own signals left alone (the
// real pthread_sigmask, resolved at start-up).
int real_pthread_sigmask(int how, const sigset_t* set, sigset_t* old);
void init_sigtrap_mask();

// signal-safe. Around a call whose effect outlives racetrap's view (exec, a new
// thread that racetrap may not watch): while the program blocks SIGTRAP, block it
// for real; the destructor undoes it.
struct RealSigtrapBlock {
  RealSigtrapBlock();
  ~RealSigtrapBlock();
  RealSigtrapBlock(const RealSigtrapBlock&) = delete;
  RealSigtrapBlock& operator=(const RealSigtrapBlock&) = delete;
  bool active = false;
};

}  // namespace racetrap
