// stack_object_functor.cc — an object on the main thread's stack is shared by
// reference with a std::thread functor; the functor and main both update its
// `progress` field with no synchronization (a write-write race on main's stack).
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "deadline.h"

struct Progress {
  long started = 0;
  volatile long progress = 0;
};

struct Worker {
  Progress& shared;
  double seconds;
  void operator()() const {
    struct deadline end = deadline_after(seconds);
    uint64_t h = 1;
    while (before(&end)) {
      for (int i = 0; i < 256; i++) {
        h = h * 6364136223846793005ull + 1442695040888963407ull;
        shared.progress = shared.progress + 1;  // RACE
      }
    }
  }
};

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 1.0;
  Progress local;
  std::thread t(Worker{local, seconds});
  struct deadline end = deadline_after(seconds);
  while (before(&end)) {
    for (int i = 0; i < 256; i++) local.progress = local.progress + 2;  // RACE
  }
  t.join();
  std::printf("progress %ld\n", local.progress);
  return 0;
}
