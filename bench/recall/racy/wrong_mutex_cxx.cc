// wrong_mutex_cxx.cc — two std::threads each lock a std::mutex around the update
// of a shared balance, but each uses its own mutex, so nothing orders the updates:
// a write-write race on `balance`.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "deadline.h"

static volatile long balance;

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 1.0;
  std::mutex deposit_mutex, withdraw_mutex;
  auto run = [&](std::mutex& m, long delta) {
    struct deadline end = deadline_after(seconds);
    uint64_t h = 1;
    while (before(&end)) {
      for (int i = 0; i < 64; i++) {
        for (int k = 0; k < 16; k++) h = h * 6364136223846793005ull + 1;
        std::lock_guard<std::mutex> guard(m);
        balance = balance + delta;  // RACE
      }
    }
  };
  std::thread a(run, std::ref(deposit_mutex), 3), b(run, std::ref(withdraw_mutex), -2);
  a.join();
  b.join();
  std::printf("balance %ld\n", balance);
  return 0;
}
