// first_tick_timer_test.cc — the one-shot CPU-time timer that gives a thread its
// first sampling tick: it fires once after one period of the thread's own CPU
// time, tagged as racetrap's, and a cancelled timer never fires.
#include "first_tick_timer.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include <time.h>

#include <atomic>
#include <cstring>
#include <thread>

#include <gtest/gtest.h>

namespace racetrap {
namespace {

std::atomic<int> first_ticks{0};
std::atomic<int> other_traps{0};
thread_local int my_first_ticks = 0;  // the ticks this thread received

void on_trap(int, siginfo_t* info, void*) {
  if (is_first_tick(info)) {
    first_ticks.fetch_add(1);
    ++my_first_ticks;
  } else {
    other_traps.fetch_add(1);
  }
}

// Thread CPU time, in microseconds.
uint64_t thread_cpu_us() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

// Burns `us` of this thread's CPU time.
void spin_cpu(uint64_t us) {
  const uint64_t end = thread_cpu_us() + us;
  volatile uint64_t sink = 0;
  while (thread_cpu_us() < end)
    for (int i = 0; i < 1000; ++i) sink = sink + static_cast<uint64_t>(i);
}

class FirstTickTimerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    first_ticks = 0;
    other_traps = 0;
    struct sigaction act;
    std::memset(&act, 0, sizeof act);
    act.sa_sigaction = on_trap;
    act.sa_flags = SA_SIGINFO;
    ASSERT_EQ(sigaction(SIGTRAP, &act, &old_), 0);
  }
  void TearDown() override { sigaction(SIGTRAP, &old_, nullptr); }
  struct sigaction old_;
};

TEST_F(FirstTickTimerTest, FiresOnceAfterOnePeriodOfThreadCpuTime) {
  FirstTickTimer timer;
  ASSERT_TRUE(timer.arm(2000, static_cast<uint32_t>(gettid())));
  EXPECT_TRUE(timer.pending());
  spin_cpu(1000);  // half a period: not yet (the kernel checks CPU timers at its tick)
  EXPECT_EQ(first_ticks.load(), 0);
  // Until the tick, up to 2 s of CPU: the kernel checks CPU timers at its tick while
  // the thread runs, and on a loaded guest that check has come ~600 ms late.
  for (int i = 0; i < 200 && first_ticks.load() == 0; ++i) spin_cpu(10000);
  EXPECT_EQ(first_ticks.load(), 1);
  spin_cpu(20000);
  EXPECT_EQ(first_ticks.load(), 1) << "one-shot: a single tick";
  EXPECT_EQ(other_traps.load(), 0);
  timer.cancel();
  EXPECT_FALSE(timer.pending());
}

TEST_F(FirstTickTimerTest, CancelledTimerNeverFires) {
  FirstTickTimer timer;
  ASSERT_TRUE(timer.arm(2000, static_cast<uint32_t>(gettid())));
  timer.cancel();
  EXPECT_FALSE(timer.pending());
  spin_cpu(60000);
  EXPECT_EQ(first_ticks.load(), 0);
  timer.cancel();  // twice is harmless
}

// A creator arms its new thread's timer (arm_on, the thread's CPU-time clock): the
// tick comes after one period of that thread's CPU time, to that thread, while the
// arming thread sleeps.
TEST_F(FirstTickTimerTest, ArmedByAnotherThreadOnItsClock) {
  my_first_ticks = 0;  // this thread's ticks from the tests before
  FirstTickTimer timer;
  std::atomic<int> tid{0};
  std::atomic<bool> armed{false};
  int worker_ticks = -1;
  std::thread worker([&] {
    tid = static_cast<int>(gettid());
    while (!armed.load()) {
    }
    // Until the tick, up to 2 s of CPU (a loaded guest's ticks come late), then
    // long enough for a second one to show if the timer were periodic.
    for (int i = 0; i < 200 && my_first_ticks == 0; ++i) spin_cpu(10000);
    spin_cpu(20000);
    worker_ticks = my_first_ticks;
  });
  while (tid.load() == 0) {
  }
  clockid_t clock;
  ASSERT_EQ(pthread_getcpuclockid(worker.native_handle(), &clock), 0);
  const bool ok = timer.arm_on(clock, 2000, static_cast<uint32_t>(tid.load()), /*periodic=*/false);
  armed = true;
  usleep(1000);  // the arming thread's own CPU time does not count
  worker.join();
  ASSERT_TRUE(ok);
  EXPECT_EQ(worker_ticks, 1) << "the worker's own tick, once";
  EXPECT_EQ(first_ticks.load(), 1);
  EXPECT_EQ(my_first_ticks, 0) << "nothing for the arming thread";
  timer.cancel();
  EXPECT_FALSE(timer.pending());
}

// A first tick sooner than the period (first_us: a new thread's random part of
// one): the first comes after first_us of CPU, the periodic ones a period apart.
TEST_F(FirstTickTimerTest, FirstTickAfterFirstUsThenEveryPeriod) {
  FirstTickTimer timer;
  ASSERT_TRUE(timer.arm(2000000, static_cast<uint32_t>(gettid()), /*periodic=*/true, /*first_us=*/2000));
  EXPECT_TRUE(timer.periodic());
  // Until the first tick, up to 2 s of CPU (a loaded guest's ticks come late) ...
  for (int i = 0; i < 200 && first_ticks.load() == 0; ++i) spin_cpu(10000);
  EXPECT_EQ(first_ticks.load(), 1);
  // ... and no second one in far less than the 2 s period.
  spin_cpu(100000);
  EXPECT_EQ(first_ticks.load(), 1) << "the next tick is a whole period away";
  timer.cancel();
}

// A program's own POSIX timer on SIGTRAP is not mistaken for racetrap's.
TEST_F(FirstTickTimerTest, ProgramTimersAreNotFirstTicks) {
  sigevent ev;
  std::memset(&ev, 0, sizeof ev);
  ev.sigev_notify = SIGEV_SIGNAL;
  ev.sigev_signo = SIGTRAP;
  ev.sigev_value.sival_ptr = &ev;
  timer_t id;
  ASSERT_EQ(timer_create(CLOCK_THREAD_CPUTIME_ID, &ev, &id), 0);
  itimerspec when{};
  when.it_value.tv_nsec = 1000000;
  ASSERT_EQ(timer_settime(id, 0, &when, nullptr), 0);
  spin_cpu(60000);
  timer_delete(id);
  EXPECT_EQ(other_traps.load(), 1);
  EXPECT_EQ(first_ticks.load(), 0);
}

}  // namespace
}  // namespace racetrap
