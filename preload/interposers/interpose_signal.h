// interpose_signal.h — the program's own signal calls, seen by racetrap.
#pragma once

#include <signal.h>

namespace racetrap {

// The real sigaction, bypassing the interposer (ordinary context).
int real_sigaction(int sig, const struct sigaction* act, struct sigaction* old);

// Installs racetrap's SIGTRAP handler (on_sigtrap) and keeps the program's
// disposition to chain to (ordinary context, at start-up).
void install_trap_handler();

}  // namespace racetrap
