// stack_array_lambda.cc — an array on the main thread's stack is captured by
// reference by a std::thread lambda; the lambda writes every slot while main reads
// them back, with no synchronization (a read-write race on main's stack).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "deadline.h"

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 1.0;
  volatile uint64_t samples[16] = {};
  std::thread filler([&] {
    struct deadline end = deadline_after(seconds);
    uint64_t h = 5;
    while (before(&end)) {
      for (int i = 0; i < 256; i++) {
        h ^= h << 13;
        h ^= h >> 7;
        h ^= h << 17;
        samples[i & 15] = h;  // RACE
      }
    }
  });
  struct deadline end = deadline_after(seconds);
  uint64_t sum = 0;
  while (before(&end)) {
    for (int i = 0; i < 256; i++) sum += samples[i & 15];  // RACE
  }
  filler.join();
  std::printf("sum %llu\n", static_cast<unsigned long long>(sum));
  return 0;
}
