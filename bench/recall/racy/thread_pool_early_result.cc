// thread_pool_early_result.cc — a pool of 8 worker threads (more than the cores)
// takes tasks from a mutex-protected queue and writes each task's result; the
// submitter counts finished tasks with an atomic, but while it waits it peeks at
// the results of tasks the counter does not yet say are done: a read of a result
// racing with the worker's write of it.
// Usage: thread_pool_early_result [SECONDS]: about SECONDS of wall time on all cores
// (the process uses SECONDS * cores of CPU time, capped at 8x SECONDS of wall time).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include <unistd.h>

namespace {

double process_cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

struct Task {
  uint64_t seed = 0;
  uint64_t result = 0;  // written by a worker, 0 until then
};

class Pool {
 public:
  explicit Pool(int workers) {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { work(); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_all();
    for (std::thread& t : threads_) t.join();
  }
  void submit(Task* task) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(task);
    }
    ready_.notify_one();
  }
  std::atomic<long> completed{0};

 private:
  void work() {
    for (;;) {
      Task* task = nullptr;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        task = queue_.front();
        queue_.pop_front();
      }
      uint64_t x = task->seed | 1;
      for (int i = 0; i < 2000; ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
      }
      task->result = x;  // RACE
      completed.fetch_add(1, std::memory_order_release);
    }
  }
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Task*> queue_;
  std::vector<std::thread> threads_;
  bool stopping_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 1.0;
  const long cores = std::max(1L, sysconf(_SC_NPROCESSORS_ONLN));
  const double cpu_end = process_cpu_seconds() + seconds * static_cast<double>(cores);
  const auto wall_end = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                               std::chrono::duration<double>(8 * seconds));
  Pool pool(8);
  std::vector<Task> tasks(256);
  uint64_t seen = 0, batches = 0;
  while (process_cpu_seconds() < cpu_end && std::chrono::steady_clock::now() < wall_end) {
    const long before = pool.completed.load(std::memory_order_acquire);
    for (size_t i = 0; i < tasks.size(); ++i) {
      tasks[i].seed = batches * tasks.size() + i;
      tasks[i].result = 0;
      pool.submit(&tasks[i]);
    }
    const long target = before + static_cast<long>(tasks.size());
    // Progress: how many results are already there, read before the counter says so.
    while (pool.completed.load(std::memory_order_acquire) < target) {
      uint64_t ready = 0;
      for (const Task& t : tasks) ready += t.result != 0;  // RACE
      seen += ready;
    }
    ++batches;
  }
  std::printf("%llu batches, %llu early results seen\n", static_cast<unsigned long long>(batches),
              static_cast<unsigned long long>(seen));
  return 0;
}
