// interpose_signal.cc — the program keeps its own SIGTRAP handler: sigaction()
// and signal() for SIGTRAP record it (racetrap's handler stays installed and
// chains to it); every other signal passes straight through.
#include <signal.h>

#include <cstring>

#include "real_function.h"
#include "runtime.h"
#include "signal_handler.h"

namespace racetrap {

RACETRAP_INTERPOSE int sigaction(int sig, const struct sigaction* act, struct sigaction* old) {
  if (sig != SIGTRAP || !runtime_active()) return real_sigaction(sig, act, old);
  if (old != nullptr) *old = program_trap_action();
  if (act != nullptr) program_trap_action() = *act;
  return 0;
}

RACETRAP_INTERPOSE sighandler_t signal(int sig, sighandler_t handler) {
  static auto real = next_function<sighandler_t (*)(int, sighandler_t)>("signal");
  if (sig != SIGTRAP || !runtime_active()) return real(sig, handler);
  struct sigaction& program = program_trap_action();
  sighandler_t previous = (program.sa_flags & SA_SIGINFO) ? reinterpret_cast<sighandler_t>(reinterpret_cast<void*>(program.sa_sigaction))
                                                          : program.sa_handler;
  struct sigaction act;
  std::memset(&act, 0, sizeof act);
  act.sa_handler = handler;
  act.sa_flags = SA_RESTART;
  program = act;
  return previous;
}

}  // namespace racetrap
