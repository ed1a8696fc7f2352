// cxx_runtime.cc — a C++ program with its own operator new, exceptions thrown
// through std::call_once (pthread_once, which racetrap interposes) and across
// threads. Under racetrap it must print exactly what it prints without it: its
// operator new is called as often (racetrap's statically linked libstdc++ never
// replaces the program's), and every exception is caught where it was meant to be.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

static std::atomic<long> program_news{0};

void* operator new(std::size_t n) {
  program_news++;
  void* p = std::malloc(n ? n : 1);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

static std::once_flag once;
static int tries = 0;

int main() {
  long before = program_news.load();
  std::vector<std::string> v;
  for (int i = 0; i < 100; ++i) v.push_back(std::string(40, 'x') + std::to_string(i));
  long strings_news = program_news.load() - before;

  for (int k = 0; k < 3; ++k) {
    try {
      std::call_once(once, [] {
        if (++tries < 3) throw std::runtime_error("again");
      });
    } catch (const std::runtime_error& e) {
      std::printf("call_once threw: %s\n", e.what());
    }
  }

  std::mutex m;
  long total = 0, caught = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        try {
          std::lock_guard<std::mutex> g(m);
          total++;
          if (i % 100 == 0) throw std::out_of_range("r");
        } catch (const std::exception&) {
          std::lock_guard<std::mutex> g(m);
          caught++;
        }
      }
    });
  for (auto& t : threads) t.join();

  std::exception_ptr ep;
  std::thread([&] {
    try {
      throw std::logic_error("from a thread");
    } catch (...) {
      ep = std::current_exception();
    }
  }).join();
  try {
    std::rethrow_exception(ep);
  } catch (const std::logic_error& e) {
    std::printf("rethrown: %s\n", e.what());
  }
  std::printf("operator new calls for 100 strings: %ld\ncall_once tries: %d\ntotal %ld caught %ld\n", strings_news,
              tries, total, caught);
  return 0;
}
