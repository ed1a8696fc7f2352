// free_cxx.cc — race-free C++: a std::thread pool pulls jobs (std::vector payloads)
// from a queue guarded by std::mutex + std::condition_variable (std::unique_lock,
// wait with predicate), results go into a std::map under another mutex, and
// std::string / std::vector allocations happen in every job.
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <map>
#include <mutex>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

double thread_cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct Job {
  long id;
  std::vector<int> values;
  std::string label;
};

class JobQueue {
 public:
  void push(Job job) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      not_full_.wait(lock, [this] { return jobs_.size() < kCapacity; });
      jobs_.push_back(std::move(job));
    }
    not_empty_.notify_one();
  }

  std::optional<Job> pop() {
    std::unique_lock<std::mutex> lock(mutex_);
    not_empty_.wait(lock, [this] { return !jobs_.empty() || closed_; });
    if (jobs_.empty()) return std::nullopt;
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    not_full_.notify_one();
    return job;
  }

  void close() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closed_ = true;
    }
    not_empty_.notify_all();
  }

 private:
  static constexpr size_t kCapacity = 32;
  std::mutex mutex_;
  std::condition_variable not_empty_, not_full_;
  std::deque<Job> jobs_;
  bool closed_ = false;
};

class Results {
 public:
  void add(const std::string& label, long sum) {
    std::lock_guard<std::mutex> lock(mutex_);
    totals_[label] += sum;
    ++count_;
  }
  long count() {
    std::lock_guard<std::mutex> lock(mutex_);
    return count_;
  }
  size_t labels() {
    std::lock_guard<std::mutex> lock(mutex_);
    return totals_.size();
  }

 private:
  std::mutex mutex_;
  std::map<std::string, long> totals_;
  long count_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 1.0;
  JobQueue queue;
  Results results;

  std::vector<std::thread> workers;
  for (int w = 0; w < 2; ++w) {
    workers.emplace_back([&queue, &results] {
      while (std::optional<Job> job = queue.pop()) {
        long sum = std::accumulate(job->values.begin(), job->values.end(), 0L);
        std::string key = job->label + "/" + std::to_string(sum % 7);
        results.add(key, sum);
      }
    });
  }

  long produced = 0;
  std::thread producer([&] {
    // Run for `seconds` of this thread's CPU time, at most 4x that in wall time.
    const double cpu_end = thread_cpu_seconds() + seconds;
    const auto wall_end =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(4 * seconds);
    while (thread_cpu_seconds() < cpu_end && std::chrono::steady_clock::now() < wall_end) {
      for (int n = 0; n < 16; ++n) {
        Job job;
        job.id = produced;
        job.values.resize(16 + produced % 200);
        std::iota(job.values.begin(), job.values.end(), static_cast<int>(produced % 1000));
        job.label = "label-" + std::to_string(produced % 13);
        queue.push(std::move(job));
        ++produced;
      }
    }
    queue.close();
  });

  producer.join();
  for (auto& t : workers) t.join();
  std::printf("produced %ld, processed %ld, %zu keys\n", produced, results.count(),
              results.labels());
  return results.count() == produced ? 0 : 1;
}
