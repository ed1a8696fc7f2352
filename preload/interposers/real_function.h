// real_function.h — the next definition of an interposed libc function.
// Every one racetrap calls is looked up once, when the process creates its second
// thread (real_function.cc's table, resolve_real_functions): a first dlsym costs
// microseconds and takes the dynamic loader's lock, and an interposer's first call
// in a new thread often comes while the program holds a lock (a thread's second
// lock: an ABBA program's window), where neither may happen. A single-threaded
// process pays nothing for it. Names not in the table, and lookups before the
// second thread, go to dlsym. Ordinary context.
#pragma once

namespace racetrap {

// The address of `name` (in glibc's `version` when given, as its interposer
// needs it) in the libraries after libracetrap.so; nullptr when there is none.
void* next_function_address(const char* name, const char* version);

template <typename Fn>
Fn next_function(const char* name, const char* version = nullptr) {
  return reinterpret_cast<Fn>(next_function_address(name, version));
}

// Before the process's second thread runs (watch_threads): looks up the whole table.
void resolve_real_functions();

}  // namespace racetrap

// Exported from libracetrap.so (the library is built with hidden visibility).
#define RACETRAP_INTERPOSE extern "C" __attribute__((visibility("default")))
