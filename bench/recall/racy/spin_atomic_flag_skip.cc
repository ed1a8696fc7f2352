// spin_atomic_flag_skip.cc — racy: the spin lock of free/spin_atomic_flag.cc
// (std::atomic_flag: XCHG to take, plain store to release), but the second
// thread updates the table without taking it: its writes race with the first
// thread's writes made under the lock (write-write).
#include <pthread.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "deadline.h"

namespace {

std::atomic_flag table_lock = ATOMIC_FLAG_INIT;
long table[16];

void lock() {
  while (table_lock.test_and_set(std::memory_order_acquire)) {
  }
}
void unlock() { table_lock.clear(std::memory_order_release); }

void* worker(void* arg) {
  deadline end = deadline_after(*static_cast<const double*>(arg));
  unsigned long h = reinterpret_cast<unsigned long>(&end);
  while (before(&end)) {
    lock();
    for (int i = 0; i < 16; ++i) table[i] += static_cast<long>(h >> i) & 7;  // RACE
    unlock();
    for (int spin = 0; spin < 64; ++spin) h = h * 6364136223846793005ull + 1442695040888963407ull;
  }
  return nullptr;
}

void* lock_skipper(void* arg) {
  deadline end = deadline_after(*static_cast<const double*>(arg));
  unsigned long h = reinterpret_cast<unsigned long>(&end);
  while (before(&end)) {
    for (int i = 0; i < 16; ++i) table[i] += static_cast<long>(h >> i) & 7;  // RACE
    for (int spin = 0; spin < 64; ++spin) h = h * 6364136223846793005ull + 1442695040888963407ull;
  }
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  pthread_t a, b;
  pthread_create(&a, nullptr, worker, &seconds);
  pthread_create(&b, nullptr, lock_skipper, &seconds);
  pthread_join(a, nullptr);
  pthread_join(b, nullptr);
  long sum = 0;
  for (long v : table) sum += v;
  printf("sum = %ld\n", sum);
  return 0;
}
