// vdso_clock.cc — the vDSO's clock_gettime, looked up through the dynamic linker,
// and the raw system calls (see vdso_clock.h).
#include "vdso_clock.h"

#include <dlfcn.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

namespace racetrap {
namespace {

using ClockGettime = int (*)(clockid_t, timespec*);

constinit std::atomic<ClockGettime> g_clock_gettime{nullptr};

}  // namespace

void look_up_vdso_clock() {
  void* vdso = dlopen("linux-vdso.so.1", RTLD_LAZY | RTLD_NOLOAD);
  if (vdso == nullptr) return;
  if (void* fn = dlsym(vdso, "__vdso_clock_gettime"))
    g_clock_gettime.store(reinterpret_cast<ClockGettime>(fn), std::memory_order_release);
  dlclose(vdso);  // the reference RTLD_NOLOAD took; the vDSO stays mapped
}

// signal-safe
int vdso_clock_gettime(clockid_t clock, timespec* ts) {
  if (const ClockGettime fn = g_clock_gettime.load(std::memory_order_acquire)) return fn(clock, ts);
  return static_cast<int>(syscall(SYS_clock_gettime, clock, ts));
}

// signal-safe
int raw_clock_getres(clockid_t clock, timespec* res) {
  return static_cast<int>(syscall(SYS_clock_getres, clock, res));
}

// signal-safe
int raw_getpid() { return static_cast<int>(syscall(SYS_getpid)); }

// signal-safe
void raw_sched_yield() { syscall(SYS_sched_yield); }

}  // namespace racetrap
