// member_counter_cxx.cc — a C++ class whose hit() method bumps a member counter
// with a plain increment; one heap object is shared by two std::threads with no
// lock: a write-write race on the member.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>

#include "deadline.h"

class HitCounter {
 public:
  __attribute__((noinline)) void hit(uint64_t weight) {
    hits_ = hits_ + 1;  // RACE
    weight_ += weight;
  }
  long hits() const { return hits_; }

 private:
  volatile long hits_ = 0;
  uint64_t weight_ = 0;
};

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 1.0;
  auto counter = std::make_unique<HitCounter>();
  auto body = [&] {
    struct deadline end = deadline_after(seconds);
    uint64_t h = 1;
    while (before(&end)) {
      for (int i = 0; i < 256; i++) {
        h = h * 6364136223846793005ull + 1;
        counter->hit(h >> 60);
      }
    }
  };
  std::thread a(body), b(body);
  a.join();
  b.join();
  std::printf("hits %ld\n", counter->hits());
  return 0;
}
