// micro_sync.cc — the calls racetrap interposes, timed from the program's side.
// bench/micro runs it natively and under LD_PRELOAD=libracetrap.so and prints the
// difference per call (the issue-5 target: <= 50 ns per uncontended lock/unlock).
#include <benchmark/benchmark.h>
#include <pthread.h>

namespace {

pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
volatile long protected_value;

// Uncontended: one thread, one lock/unlock pair per iteration.
void BM_MutexLockUnlock(benchmark::State& state) {
  for (auto _ : state) {
    pthread_mutex_lock(&mutex);
    protected_value = protected_value + 1;
    pthread_mutex_unlock(&mutex);
  }
}
BENCHMARK(BM_MutexLockUnlock);

void* empty_thread(void*) { return nullptr; }

void BM_PthreadCreateJoin(benchmark::State& state) {
  for (auto _ : state) {
    pthread_t t;
    pthread_create(&t, nullptr, empty_thread, nullptr);
    pthread_join(t, nullptr);
  }
}
BENCHMARK(BM_PthreadCreateJoin)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
