// perf_events_test.cc — breakpoint slots and the descriptors racetrap owns.
#include "perf_events.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace racetrap {
namespace {

alignas(8) uint64_t watched_word;

// An event whose number the program replaced by a raw dup2 (which racetrap cannot
// intercept) is dropped at the next arm, and its number is no longer racetrap's:
// the program's close() of it must reach the kernel.
TEST(PerfEvents, DeadEventIsDroppedAndItsNumberDisowned) {
  BreakpointSlot slot;
  ASSERT_TRUE(slot.open(0)) << "perf_event_open of a breakpoint failed: errno " << errno;
  const int number = slot.fd();
  ASSERT_GE(number, 0);
  ASSERT_TRUE(owned_fds::owned(number));
  ASSERT_TRUE(slot.arm(reinterpret_cast<uint64_t>(&watched_word), 8, BreakpointType::kWrite, 1));

  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  ASSERT_EQ(syscall(SYS_dup2, pipe_fds[0], number), number);  // the program's now
  EXPECT_FALSE(slot.arm(reinterpret_cast<uint64_t>(&watched_word), 8, BreakpointType::kReadWrite, 2));
  EXPECT_EQ(slot.fd(), -1);
  EXPECT_FALSE(owned_fds::owned(number));

  slot.close();  // nothing of racetrap's left to close: the pipe stays open
  EXPECT_GE(fcntl(number, F_GETFD), 0) << "racetrap closed the program's descriptor";
  close(number);
  close(pipe_fds[0]);
  close(pipe_fds[1]);
}

}  // namespace
}  // namespace racetrap
