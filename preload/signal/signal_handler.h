// signal_handler.h — racetrap's SIGTRAP handler and the program's own disposition.
#pragma once

#include <signal.h>

namespace racetrap {

// racetrap's SIGTRAP handler (installed by install_trap_handler,
// interpose_signal.h). signal-safe.
void on_sigtrap(int sig, siginfo_t* info, void* ucontext);

// The SIGTRAP disposition the program asked for (through sigaction/signal, which
// racetrap interposes); SIGTRAPs that are not racetrap's go there. Reading is
// signal-safe; setting is ordinary context. Any thread may set it while the
// handler reads it on another: a sequence lock keeps each copy whole.
void program_trap_action(struct sigaction* out);
void set_program_trap_action(const struct sigaction& act);

}  // namespace racetrap
