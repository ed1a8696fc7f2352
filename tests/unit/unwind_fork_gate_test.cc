// unwind_fork_gate_test.cc — a fork waits for the unwinds in progress and holds new
// ones off until it is done; a child whose fork went ahead past an unwind unwinds no
// more.
#include "unwind_fork_gate.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

namespace racetrap {
namespace {

TEST(UnwindForkGate, ForkWaitsForAnUnwindInProgressAndHoldsNewOnesOff) {
  ASSERT_TRUE(begin_unwind());  // this thread is unwinding
  std::atomic<bool> closed{false};
  std::atomic<bool> other_allowed{true};
  std::thread forker([&] {
    close_unwind_gate_for_fork();  // waits for this test thread's unwind
    closed = true;
  });
  // While the fork waits, no unwind starts (from another thread: this one's own
  // would not be waited for).
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(closed.load()) << "the fork did not wait for the unwind in progress";
  std::thread other([&] {
    const UnwindPermit permit;
    other_allowed = permit.allowed();
  });
  other.join();
  EXPECT_FALSE(other_allowed.load());
  end_unwind();
  forker.join();
  EXPECT_TRUE(closed.load());
  open_unwind_gate_in_parent();
  const UnwindPermit after;
  EXPECT_TRUE(after.allowed());
}

TEST(UnwindForkGate, ForkingThreadsOwnUnwindIsNotWaitedFor) {
  ASSERT_TRUE(begin_unwind());  // e.g. a fork from a handler that interrupted it
  const auto start = std::chrono::steady_clock::now();
  close_unwind_gate_for_fork();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
  open_unwind_gate_in_parent();
  end_unwind();
}

TEST(UnwindForkGate, ChildOfAForkPastAnUnwindUnwindsNoMore) {
  std::atomic<bool> stop{false};
  std::atomic<bool> unwinding{false};
  std::thread stuck([&] {  // an unwind that outlasts the fork's wait
    ASSERT_TRUE(begin_unwind());
    unwinding = true;
    while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    end_unwind();
  });
  while (!unwinding.load()) std::this_thread::yield();
  close_unwind_gate_for_fork();  // gives up after its wait
  const pid_t pid = fork();
  if (pid == 0) {
    open_unwind_gate_in_child();
    _exit(begin_unwind() ? 1 : 0);  // libunwind's lock may be held for good: no unwind
  }
  open_unwind_gate_in_parent();
  stop = true;
  stuck.join();
  ASSERT_GT(pid, 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the child unwound after such a fork";
  // The parent unwinds again.
  EXPECT_TRUE(begin_unwind());
  end_unwind();
}

}  // namespace
}  // namespace racetrap
