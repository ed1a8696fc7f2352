// stack_object_joined.cc — race-free: an object on the main thread's stack is
// shared by reference with a std::thread functor that fills it; main works on its
// own data meanwhile and reads the object only after join().
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "deadline.h"

struct Result {
  uint64_t sum = 0;
  long rounds = 0;
};

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 1.0;
  Result result;
  static uint64_t mine[64];
  std::thread worker([&result, seconds] {
    struct deadline end = deadline_after(seconds);
    uint64_t h = 1;
    while (before(&end)) {
      for (int i = 0; i < 256; i++) {
        h = h * 6364136223846793005ull + 1;
        result.sum += h >> 40;
        result.rounds++;
      }
    }
  });
  struct deadline end = deadline_after(seconds);
  uint64_t h = 3;
  while (before(&end)) {
    for (int i = 0; i < 256; i++) {
      h = h * 0x5851f42d4c957f2dull + 1;
      mine[h >> 58] += h;
    }
  }
  worker.join();
  std::printf("%llu %ld %llu\n", static_cast<unsigned long long>(result.sum), result.rounds,
              static_cast<unsigned long long>(mine[0]));
  return 0;
}
