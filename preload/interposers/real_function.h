// real_function.h — the next definition of an interposed libc function.
// Every one racetrap calls is looked up once, when the process creates its second
// thread (real_function.cc's table, resolve_real_functions): a first dlsym costs
// microseconds and takes the dynamic loader's lock, and an interposer's first call
// in a new thread often comes while the program holds a lock (a thread's second
// lock: an ABBA program's window), where neither may happen. A single-threaded
// process pays nothing for it. Names not in the table, and lookups before the
// second thread, go to dlsym. Ordinary context.
#pragma once

#include <atomic>

namespace racetrap {

// The address of `name` (in glibc's `version` when given, as its interposer
// needs it) in the libraries after libracetrap.so; nullptr when there is none.
void* next_function_address(const char* name, const char* version);

template <typename Fn>
Fn next_function(const char* name, const char* version = nullptr) {
  return reinterpret_cast<Fn>(next_function_address(name, version));
}

// next_function cached in `cache` (constinit, nullptr until the first call), for an
// interposer whose lookup must not be a function-local static: the static's guard
// makes a thread that calls while another initializes it wait for that one (a
// futex wait and wake), which lines up two threads that make their first call at
// the same time, as the two threads of an ABBA deadlock released together do.
// Every thread finds the same pointer, so a race on the first lookup is harmless.
template <typename Fn>
Fn cached_next_function(std::atomic<Fn>& cache, const char* name) {
  Fn fn = cache.load(std::memory_order_relaxed);
  if (fn == nullptr) [[unlikely]] {
    fn = next_function<Fn>(name);
    cache.store(fn, std::memory_order_relaxed);
  }
  return fn;
}

// Before the process's second thread runs (watch_threads): looks up the whole table.
void resolve_real_functions();

}  // namespace racetrap

// Exported from libracetrap.so (the library is built with hidden visibility).
#define RACETRAP_INTERPOSE extern "C" __attribute__((visibility("default")))
