// interpose_signal.h — the program's own signal calls, seen by racetrap.
#pragma once

#include <signal.h>

namespace racetrap {

// The real sigaction, bypassing the interposer (ordinary context).
int real_sigaction(int sig, const struct sigaction* act, struct sigaction* old);

}  // namespace racetrap
