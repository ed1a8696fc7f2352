// real_function.h — the next definition of an interposed libc function.
#pragma once

#include <dlfcn.h>

namespace racetrap {

template <typename Fn>
Fn next_function(const char* name, const char* version = nullptr) {
  void* p = version != nullptr ? dlvsym(RTLD_NEXT, name, version) : nullptr;
  if (p == nullptr) p = dlsym(RTLD_NEXT, name);
  return reinterpret_cast<Fn>(p);
}

}  // namespace racetrap

// Exported from libracetrap.so (the library is built with hidden visibility).
#define RACETRAP_INTERPOSE extern "C" __attribute__((visibility("default")))
