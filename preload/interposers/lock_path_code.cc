// lock_path_code.cc — see lock_path_code.h.
#include "lock_path_code.h"

#include <cstdint>

extern "C" const char __start_racetrap_lock_paths[];
extern "C" const char __stop_racetrap_lock_paths[];

namespace racetrap {

void prepare_lock_paths() {
  constexpr uintptr_t kPage = 4096;
  const uintptr_t start = reinterpret_cast<uintptr_t>(__start_racetrap_lock_paths) & ~(kPage - 1);
  const uintptr_t end = reinterpret_cast<uintptr_t>(__stop_racetrap_lock_paths);
  for (uintptr_t page = start; page < end; page += kPage) (void)*reinterpret_cast<const volatile char*>(page);
  resolve_rwlock_functions();
  resolve_spin_lock_functions();
}

}  // namespace racetrap
