// canary.cc — what the signal path must never call, one reference per category,
// so the signal-safety check is shown to catch each of them (never linked into
// racetrap).
#include <pthread.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace {
pthread_mutex_t canary_lock = PTHREAD_MUTEX_INITIALIZER;
std::string named(int n) { return std::to_string(n); }
}  // namespace

void* volatile canary_sink;  // keeps the compiler from dropping malloc/free

int signal_safety_canary(int n) {
  static const std::string label = named(n);  // guarded static
  canary_sink = std::malloc(16);                // allocator
  std::free(canary_sink);
  auto* q = new int(n);                         // operator new/delete
  delete q;
  std::fprintf(stderr, "%s\n", label.c_str());  // stdio
  pthread_mutex_lock(&canary_lock);             // pthread_mutex_lock
  pthread_mutex_unlock(&canary_lock);
  if (n < 0) throw std::runtime_error("negative");  // C++ exception
  return n;
}
