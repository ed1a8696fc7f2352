// copy_tunables.h — the GLIBC_TUNABLES value `racetrap run` gives the watched
// program so that glibc's memcpy, memmove and memset keep their speed while the
// thread has a data breakpoint armed.
//
// Why: on the AMD EPYC hosts measured (bench/README.md), an enabled data breakpoint
// (W or RW; execute breakpoints and disabled events do not) turns off fast-string
// operation, and `rep movsb` copies about 16x slower (256 KiB: 75 us against 4.6
// us), whether or not the copy touches the watched bytes. glibc copies and sets
// blocks from about 2 KiB to a few MiB with `rep movsb` / `rep stosb`; with both
// thresholds at their maximum it uses its vector loops instead, which keep their
// speed. The thresholds are read by the dynamic loader before any preload runs, so
// only the environment can set them; a plain LD_PRELOAD run can set them the same way.
#pragma once

#include <string>

namespace racetrap {

// `existing` (GLIBC_TUNABLES as the user set it, or nullptr) with the rep movsb
// and rep stosb thresholds raised to their maximum, each unless the user already
// names it (the user's setting wins).
std::string with_fast_copy_tunables(const char* existing);

}  // namespace racetrap
