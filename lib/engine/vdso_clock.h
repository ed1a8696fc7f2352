// vdso_clock.h — clock_gettime straight from the vDSO, and the few system calls
// racetrap makes at run time whose glibc wrappers lie in pages of libc's code the
// program may never use.
//
// glibc's clock_gettime is a wrapper around the vDSO's; it sits in libc's code
// among mktime, strftime and clock_nanosleep, sched_yield among regex and getopt,
// getpid among fork and sysconf. A read fault on libc maps the whole 64 KiB window
// around the page (fault-around), so racetrap's first call of one of them in a
// program that calls nothing near it kept 16 pages of libc resident for the
// process's life (a watched zstd, sort or pbzip2 carried one to three such windows
// at its peak). The vDSO is mapped and resident in every process; syscall() is in a
// page racetrap's other system calls keep resident anyway.
//
// The vDSO's function is looked up once, in ordinary context, through the dynamic
// linker (glibc lists the vDSO among the loaded objects as linux-vdso.so.1): by
// the process's second thread, before any thread samples; until then, and where
// there is no vDSO, the system call.
//
// Contract: look_up_vdso_clock runs in ordinary context; the rest is signal-safe
// (no allocation, no lock; errno as the call itself leaves it).
#pragma once

#include <time.h>

namespace racetrap {

// Finds __vdso_clock_gettime (dlopen of the loaded vDSO, dlsym). Ordinary context.
void look_up_vdso_clock();

// clock_gettime(clock, ts) through the vDSO's __vdso_clock_gettime once looked up,
// the system call before that or when the vDSO has none.
int vdso_clock_gettime(clockid_t clock, timespec* ts);

// The system calls themselves, for the glibc wrappers named above.
int raw_clock_getres(clockid_t clock, timespec* res);
int raw_getpid();
void raw_sched_yield();

}  // namespace racetrap
