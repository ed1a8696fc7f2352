// real_function.cc — the table of libc functions racetrap calls through
// (real_function.h), looked up when the process creates its second thread.
#include "real_function.h"

#include <dlfcn.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <string_view>

namespace racetrap {
namespace {

struct RealFunctionName {
  const char* name;
  const char* version;  // nullptr: the default version
};

// Every name an interposer looks up with next_function, sorted (binary search).
// A name missing here still works (dlsym at its first use); the real_functions
// test keeps the table complete.
constexpr auto kRealFunctions = std::to_array<RealFunctionName>({
    {"aligned_alloc", nullptr},
    {"calloc", nullptr},
    {"clock_nanosleep", nullptr},
    {"close", nullptr},
    {"dup2", nullptr},
    {"dup3", nullptr},
    {"execv", nullptr},
    {"execve", nullptr},
    {"execvp", nullptr},
    {"execvpe", nullptr},
    {"fexecve", nullptr},
    {"free", nullptr},
    {"malloc", nullptr},
    {"malloc_usable_size", nullptr},
    {"memalign", nullptr},
    {"munmap", nullptr},
    {"nanosleep", nullptr},
    {"pipe2", nullptr},
    {"posix_memalign", nullptr},
    {"pthread_barrier_destroy", nullptr},
    {"pthread_barrier_init", nullptr},
    {"pthread_barrier_wait", nullptr},
    {"pthread_cond_broadcast", "GLIBC_2.3.2"},
    {"pthread_cond_clockwait", nullptr},
    {"pthread_cond_destroy", "GLIBC_2.3.2"},
    {"pthread_cond_signal", "GLIBC_2.3.2"},
    {"pthread_cond_timedwait", "GLIBC_2.3.2"},
    {"pthread_cond_wait", "GLIBC_2.3.2"},
    {"pthread_create", nullptr},
    {"pthread_detach", nullptr},
    {"pthread_exit", nullptr},
    {"pthread_join", nullptr},
    {"pthread_mutex_clocklock", nullptr},
    {"pthread_mutex_destroy", nullptr},
    {"pthread_mutex_lock", nullptr},
    {"pthread_mutex_timedlock", nullptr},
    {"pthread_mutex_trylock", nullptr},
    {"pthread_mutex_unlock", nullptr},
    {"pthread_once", nullptr},
    {"pthread_rwlock_clockrdlock", nullptr},
    {"pthread_rwlock_clockwrlock", nullptr},
    {"pthread_rwlock_destroy", nullptr},
    {"pthread_rwlock_rdlock", nullptr},
    {"pthread_rwlock_timedrdlock", nullptr},
    {"pthread_rwlock_timedwrlock", nullptr},
    {"pthread_rwlock_tryrdlock", nullptr},
    {"pthread_rwlock_trywrlock", nullptr},
    {"pthread_rwlock_unlock", nullptr},
    {"pthread_rwlock_wrlock", nullptr},
    {"pthread_setattr_default_np", nullptr},
    {"pthread_sigmask", nullptr},
    {"pthread_spin_destroy", nullptr},
    {"pthread_spin_lock", nullptr},
    {"pthread_spin_trylock", nullptr},
    {"pthread_spin_unlock", nullptr},
    {"pthread_timedjoin_np", nullptr},
    {"pthread_tryjoin_np", nullptr},
    {"realloc", nullptr},
    {"sem_clockwait", nullptr},
    {"sem_destroy", nullptr},
    {"sem_init", nullptr},
    {"sem_post", nullptr},
    {"sem_timedwait", nullptr},
    {"sem_trywait", nullptr},
    {"sem_wait", nullptr},
    {"sigaction", nullptr},
    {"signal", nullptr},
    {"signalfd", nullptr},
    {"sigpending", nullptr},
    {"sigsuspend", nullptr},
    {"sigtimedwait", nullptr},
    {"sigwait", nullptr},
    {"sigwaitinfo", nullptr},
    {"syscall", nullptr},
    {"usleep", nullptr},
});
static_assert(std::ranges::is_sorted(kRealFunctions, {}, [](const RealFunctionName& f) { return std::string_view(f.name); }));

std::array<std::atomic<void*>, kRealFunctions.size()> g_addresses{};
std::atomic<bool> g_resolved{false};

void* look_up(const char* name, const char* version) {
  void* p = version != nullptr ? dlvsym(RTLD_NEXT, name, version) : nullptr;
  return p != nullptr ? p : dlsym(RTLD_NEXT, name);
}

// The table index of `name`, or -1.
int index_of(const char* name) {
  const auto* it = std::ranges::lower_bound(kRealFunctions, std::string_view(name), {},
                                            [](const RealFunctionName& f) { return std::string_view(f.name); });
  return it != kRealFunctions.end() && std::strcmp(it->name, name) == 0 ? static_cast<int>(it - kRealFunctions.begin()) : -1;
}

}  // namespace

void* next_function_address(const char* name, const char* version) {
  if (g_resolved.load(std::memory_order_acquire)) {
    const int i = index_of(name);
    const char* listed = i >= 0 ? kRealFunctions[i].version : nullptr;
    if (i >= 0 && (listed == version || (listed != nullptr && version != nullptr && std::strcmp(listed, version) == 0)))
      return g_addresses[i].load(std::memory_order_relaxed);
  }
  return look_up(name, version);
}

void resolve_real_functions() {
  for (size_t i = 0; i < kRealFunctions.size(); ++i)
    g_addresses[i].store(look_up(kRealFunctions[i].name, kRealFunctions[i].version), std::memory_order_relaxed);
  g_resolved.store(true, std::memory_order_release);
}

}  // namespace racetrap
