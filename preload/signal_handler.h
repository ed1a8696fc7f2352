// signal_handler.h — racetrap's SIGTRAP handler and the program's own disposition.
#pragma once

#include <signal.h>

namespace racetrap {

// Installs the handler (ordinary context, at start-up).
void install_trap_handler();

// The SIGTRAP disposition the program asked for (through sigaction/signal, which
// racetrap interposes); SIGTRAPs that are not racetrap's go there.
struct sigaction& program_trap_action();

// The real sigaction, bypassing the interposer.
int real_sigaction(int sig, const struct sigaction* act, struct sigaction* old);

}  // namespace racetrap
