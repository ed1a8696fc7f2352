// cxx_async.cc — std::thread, std::async, std::mutex, std::condition_variable:
// a parallel prime count and a producer/consumer queue, deterministic output.
#include <condition_variable>
#include <cstdio>
#include <future>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

static bool prime(long n) {
  if (n < 2) return false;
  for (long d = 2; d * d <= n; ++d)
    if (n % d == 0) return false;
  return true;
}

int main() {
  std::vector<std::future<long>> parts;
  const long kLimit = 3000000, kParts = 8;
  for (long p = 0; p < kParts; ++p)
    parts.push_back(std::async(std::launch::async, [=] {
      long count = 0;
      for (long n = p * kLimit / kParts; n < (p + 1) * kLimit / kParts; ++n) count += prime(n);
      return count;
    }));
  long primes = 0;
  for (auto& f : parts) primes += f.get();

  std::mutex m;
  std::condition_variable cv;
  std::queue<long> q;
  bool done = false;
  long sum = 0;
  std::vector<std::thread> consumers;
  for (int i = 0; i < 4; ++i)
    consumers.emplace_back([&] {
      for (;;) {
        std::unique_lock<std::mutex> lock(m);
        cv.wait(lock, [&] { return done || !q.empty(); });
        if (q.empty()) return;
        sum += q.front();
        q.pop();
      }
    });
  for (long i = 1; i <= 200000; ++i) {
    std::lock_guard<std::mutex> lock(m);
    q.push(i);
    cv.notify_one();
  }
  {
    std::lock_guard<std::mutex> lock(m);
    done = true;
  }
  cv.notify_all();
  for (auto& t : consumers) t.join();
  std::printf("primes below %ld: %ld\nqueue sum: %ld\n", kLimit, primes, sum);
  return 0;
}
