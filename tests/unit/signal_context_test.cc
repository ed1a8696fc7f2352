// signal_context_test.cc — fault-free reads of a thread's memory: copy_word_from_memory
// (the kernel's check, then a plain read) agrees with copy_from_memory, and reads
// nothing where a plain read would fault.
#include "signal_context.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

namespace racetrap {
namespace {

// copy_word_from_memory is made for a signal handler that blocks every signal:
// outside one, its check blocks the signals the bytes name. The tests restore the mask.
class MaskKept {
 public:
  MaskKept() { pthread_sigmask(SIG_SETMASK, nullptr, &saved_); }
  ~MaskKept() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }

 private:
  sigset_t saved_;
};

TEST(CopyWordFromMemory, ReadsWhatCopyFromMemoryReads) {
  MaskKept kept;
  alignas(8) static volatile uint8_t bytes[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  const auto base = reinterpret_cast<uint64_t>(&bytes[0]);
  for (uint64_t offset = 0; offset < 8; ++offset) {
    for (size_t len : {1u, 2u, 4u, 8u}) {
      uint64_t fast = 0, slow = 0;
      EXPECT_EQ(copy_word_from_memory(base + offset, &fast, len), len) << offset << " " << len;
      EXPECT_EQ(copy_from_memory(base + offset, &slow, len), len);
      EXPECT_EQ(fast, slow) << offset << " " << len;  // across the 8-byte block too (the slow path)
    }
  }
}

TEST(CopyWordFromMemory, ReadsNothingWherePlainReadsFault) {
  MaskKept kept;
  const long page = sysconf(_SC_PAGESIZE);
  void* none = mmap(nullptr, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(none, MAP_FAILED);
  uint64_t value = 42;
  EXPECT_EQ(copy_word_from_memory(reinterpret_cast<uint64_t>(none), &value, 8), 0u);
  EXPECT_EQ(copy_word_from_memory(reinterpret_cast<uint64_t>(none) + 8, &value, 4), 0u);
  ASSERT_EQ(munmap(none, page), 0);  // unmapped now
  EXPECT_EQ(copy_word_from_memory(reinterpret_cast<uint64_t>(none), &value, 8), 0u);
  EXPECT_EQ(copy_word_from_memory(0, &value, 8), 0u);  // a null set would be a valid call
  EXPECT_EQ(copy_word_from_memory(8, &value, 4), 0u);
  EXPECT_EQ(value, 42u);
}

TEST(CopyWordFromMemory, ReadsAnUntouchedAnonymousPageAsZero) {
  MaskKept kept;
  const long page = sysconf(_SC_PAGESIZE);
  void* fresh = mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(fresh, MAP_FAILED);
  uint64_t value = 42;
  EXPECT_EQ(copy_word_from_memory(reinterpret_cast<uint64_t>(fresh) + 64, &value, 8), 8u);
  EXPECT_EQ(value, 0u);
  munmap(fresh, page);
}

}  // namespace
}  // namespace racetrap
