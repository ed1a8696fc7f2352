// profile_hook.cc — which of libracetrap.so's functions a sampled process runs.
//
// Linked into libracetrap.so only with -Dhot_text_profile=true, which also compiles
// racetrap's code with -finstrument-functions: every function entry calls
// __cyg_profile_func_enter. From the end of the process's second-thread set-up on
// (what a sampled process runs over and over), each function's address goes into a
// lock-free set; at exit, before racetrap's own exit report (a destructor of default
// priority runs before racetrap_stop's), the set is written, one offset from the
// library's base per line, to HOT_TEXT_PROFILE_DIR/<pid>.txt. scripts/hot_text/order turns the files
// into preload/hot_text.ld. Nothing here may call an instrumented function (std::
// inline functions are instrumented too): builtins only.
#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>

namespace racetrap {
void watch_threads();
}

namespace {

constexpr size_t kSlots = 16384;  // power of two, well above the functions of the library
uintptr_t entered[kSlots];
int recording = 0;  // set once watch_threads returns

__attribute__((no_instrument_function)) void note(uintptr_t fn) {
  size_t i = (fn * 0x9e3779b97f4a7c15ull) >> 50;
  for (size_t probes = 0; probes < kSlots; ++probes, i = (i + 1) & (kSlots - 1)) {
    uintptr_t cur = __atomic_load_n(&entered[i], __ATOMIC_RELAXED);
    if (cur == fn) return;
    if (cur == 0 && __atomic_compare_exchange_n(&entered[i], &cur, fn, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
      return;
    if (cur == fn) return;
  }
}

__attribute__((no_instrument_function, destructor)) void write_profile() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&write_profile), &info) == 0) return;
  char path[4096];
  std::snprintf(path, sizeof path, "%s/%d.txt", HOT_TEXT_PROFILE_DIR, static_cast<int>(getpid()));
  const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  for (size_t i = 0; i < kSlots; ++i) {
    if (entered[i] == 0) continue;
    char line[32];
    const int n = std::snprintf(line, sizeof line, "%lx\n",
                                static_cast<unsigned long>(entered[i] - reinterpret_cast<uintptr_t>(info.dli_fbase)));
    (void)!write(fd, line, static_cast<size_t>(n));
  }
  close(fd);
}

}  // namespace

extern "C" __attribute__((no_instrument_function)) void __cyg_profile_func_enter(void* fn, void*) {
  if (__atomic_load_n(&recording, __ATOMIC_RELAXED) != 0) note(reinterpret_cast<uintptr_t>(fn));
}

extern "C" __attribute__((no_instrument_function)) void __cyg_profile_func_exit(void* fn, void*) {
  if (fn == reinterpret_cast<void*>(&racetrap::watch_threads)) __atomic_store_n(&recording, 1, __ATOMIC_RELAXED);
}
