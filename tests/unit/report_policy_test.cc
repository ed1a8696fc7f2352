// report_policy_test.cc — each "don't report this" rule of report_policy.h, on its
// own: what it drops, and that the same access without that reason is kept.
#include "report_policy.h"

#include <gtest/gtest.h>

namespace racetrap {
namespace {

constexpr uint64_t kShared = 0x5000'0000;

MemoryAccess plain_write(uint64_t address = kShared) {
  MemoryAccess a;
  a.pc = 0x401000;
  a.address = address;
  a.size = 4;
  a.kind = AccessKind::kWrite;
  return a;
}

bool benign_at_shared(uint64_t addr, uint32_t size) { return addr < kShared + 8 && kShared < addr + size; }

TEST(ReportPolicy, PlainSharedAccessIsWatched) {
  EXPECT_TRUE(worth_watching(plain_write(), AccessContext{}));
}

TEST(ReportPolicy, StackAndSegmentRelativeOperandsAreNotWatched) {
  MemoryAccess a = plain_write();
  a.stack_relative = true;
  EXPECT_FALSE(worth_watching(a, AccessContext{}));
  a = plain_write();
  a.segment_relative = true;
  EXPECT_FALSE(worth_watching(a, AccessContext{}));
}

TEST(ReportPolicy, OwnStackTlsAndRuntimeDataAreNotWatched) {
  AccessContext c;
  c.stack = {kShared, kShared + 0x1000};
  EXPECT_FALSE(worth_watching(plain_write(), c));
  c = {};
  c.tls = {kShared, kShared + 0x100};
  EXPECT_FALSE(worth_watching(plain_write(), c));
  AddressRange libc[2] = {{0x1000, 0x2000}, {kShared, kShared + 1}};
  c = {};
  c.runtime_data = libc;
  c.runtime_data_count = 2;
  EXPECT_FALSE(worth_watching(plain_write(), c));
  c.runtime_data_count = 1;  // the range holding the address is not listed
  EXPECT_TRUE(worth_watching(plain_write(), c));
}

TEST(ReportPolicy, FirstPageAndKernelAddressesAreNotWatched) {
  EXPECT_FALSE(worth_watching(plain_write(0x10), AccessContext{}));
  EXPECT_FALSE(worth_watching(plain_write(0xffff'8000'0000'0000ull), AccessContext{}));
  EXPECT_TRUE(worth_watching(plain_write(0x1000), AccessContext{}));
}

TEST(ReportPolicy, AtomicsAreWatchedOnlyWhenReported) {
  MemoryAccess a = plain_write();
  a.atomic = true;
  AccessContext c;
  EXPECT_FALSE(worth_watching(a, c));
  c.report_atomics = true;
  EXPECT_TRUE(worth_watching(a, c));
  EXPECT_TRUE(atomics_exempt(true, false, false));
  EXPECT_TRUE(atomics_exempt(false, true, false));
  EXPECT_FALSE(atomics_exempt(false, false, false));
  EXPECT_FALSE(atomics_exempt(true, true, true));
}

TEST(ReportPolicy, AnnotationsSilenceSamplesAndTraps) {
  AccessContext c;
  c.declared_benign = &benign_at_shared;
  EXPECT_FALSE(worth_watching(plain_write(), c));
  EXPECT_TRUE(annotations_silence(kShared, 4, /*trap_writes=*/false, c));
  EXPECT_TRUE(worth_watching(plain_write(kShared + 64), c));
  EXPECT_FALSE(annotations_silence(kShared + 64, 4, false, c));

  c = {};
  c.ignore_writes = 1;
  EXPECT_FALSE(worth_watching(plain_write(), c));
  EXPECT_TRUE(annotations_silence(kShared, 4, /*trap_writes=*/true, c));
  EXPECT_FALSE(annotations_silence(kShared, 4, /*trap_writes=*/false, c));
  MemoryAccess read = plain_write();
  read.kind = AccessKind::kRead;
  EXPECT_TRUE(worth_watching(read, c));
  c = {};
  c.ignore_reads = 1;
  EXPECT_FALSE(worth_watching(read, c));
  EXPECT_TRUE(annotations_silence(kShared, 4, /*trap_writes=*/false, c));
}

TEST(ReportPolicy, StdAtomicFramesAreNamedThroughTheReturnType) {
  EXPECT_TRUE(is_std_atomic_function("void std::__atomic_impl::store<int>(int*, int, std::memory_order)"));
  EXPECT_TRUE(is_std_atomic_function("std::atomic<int>::load(std::memory_order) const"));
  EXPECT_TRUE(is_std_atomic_function("std::__atomic_base<long>::operator++()"));
  EXPECT_TRUE(is_std_atomic_function(
      "std::map<int, std::atomic<int> > std::atomic_ref<long>::load(std::memory_order) const"));
  EXPECT_FALSE(is_std_atomic_function("worker(void*)"));
  EXPECT_FALSE(is_std_atomic_function("void my::atomic<int>::store(int)"));
  EXPECT_FALSE(is_std_atomic_function("void f(std::atomic<int>*)"));  // an argument, not the function
}

}  // namespace
}  // namespace racetrap
