// demand_paged_libraries_test.cc — racetrap's libraries resident page by page, the
// program's pages left as they were. A process of its own: the registration is once
// per process and covers the test executable's own read-only segments.
#include "demand_paged_libraries.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <Zydis/Zydis.h>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

namespace racetrap {
namespace {

constexpr uintptr_t kPage = 4096;
constexpr size_t kBlobPages = 64;

// Read-only data in the executable's file (not .bss: its first byte is not zero).
alignas(4096) const unsigned char kBlob[kBlobPages * kPage] = {1};

// Reads a byte of kBlob (a load the compiler cannot fold).
unsigned char read_blob(size_t offset) { return *static_cast<const volatile unsigned char*>(&kBlob[offset]); }

uintptr_t blob_page(size_t i) { return reinterpret_cast<uintptr_t>(&kBlob[0]) + i * kPage; }

bool resident(uintptr_t addr) {
  const int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  uint64_t entry = 0;
  const bool ok = fd >= 0 && pread(fd, &entry, sizeof entry, static_cast<off_t>(addr / kPage * 8)) == sizeof entry;
  if (fd >= 0) close(fd);
  return ok && (entry >> 63) != 0;
}

int resident_blob_pages() {
  int n = 0;
  for (size_t i = 0; i < kBlobPages; ++i) n += resident(blob_page(i)) ? 1 : 0;
  return n;
}

void drop_blob() { ASSERT_EQ(madvise(const_cast<unsigned char*>(&kBlob[0]), sizeof kBlob, MADV_DONTNEED), 0); }

// The control: without a registration, one read maps the page-cached pages of the
// 64 KiB window around it (fault-around), so the checks below can tell the two apart.
TEST(DemandPagedLibraries, AReadFaultMapsItsWindowWithoutRegistration) {
  for (size_t i = 0; i < kBlobPages; ++i) (void)read_blob(i * kPage);  // all in the page cache now
  drop_blob();
  ASSERT_EQ(resident_blob_pages(), 0);
  (void)read_blob(20 * kPage);
  EXPECT_GT(resident_blob_pages(), 1);
}

// The set-up's pages of the program's objects that were not resident before it
// are dropped after it; the ones that were stay. A file of its own, out of the
// page cache, read without read-ahead: each read maps exactly its page.
TEST(DemandPagedLibraries, PagesMappedSinceTheNoteAreDropped) {
  char path[] = "/var/tmp/racetrap-demand-paging-XXXXXX";  // a disk file: tmpfs pages are never out of the page cache
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  unlink(path);
  std::vector<unsigned char> bytes(kBlobPages * kPage, 7);
  ASSERT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  ASSERT_EQ(fdatasync(fd), 0);
  ASSERT_EQ(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
  void* mem = mmap(nullptr, bytes.size(), PROT_READ, MAP_PRIVATE, fd, 0);
  ASSERT_NE(mem, MAP_FAILED);
  ASSERT_EQ(madvise(mem, bytes.size(), MADV_RANDOM), 0);
  const auto base = reinterpret_cast<uintptr_t>(mem);
  const auto page = [&](size_t i) { return base + i * kPage; };
  const auto read_page = [&](size_t i) { (void)*reinterpret_cast<const volatile unsigned char*>(page(i)); };

  read_page(0);  // resident before the note
  ASSERT_TRUE(resident(page(0)));
  ASSERT_FALSE(resident(page(1)));
  ProgramPages pages;
  pages.note_ranges({{base, base + bytes.size()}});
  read_page(40);
  read_page(60);
  ASSERT_TRUE(resident(page(40)));
  EXPECT_EQ(pages.drop_new(), 2);
  EXPECT_FALSE(resident(page(40)));
  EXPECT_FALSE(resident(page(60)));
  EXPECT_TRUE(resident(page(0)));
  munmap(mem, bytes.size());
  close(fd);
}

// The program's objects are noted: with libZydis playing racetrap's library, the
// test executable's read-only data is the program's.
TEST(DemandPagedLibraries, ProgramObjectsAreNoted) {
  drop_blob();
  ProgramPages pages;
  pages.note(reinterpret_cast<const void*>(&ZydisDecoderInit));
  (void)read_blob(40 * kPage);
  ASSERT_TRUE(resident(blob_page(40)));
  EXPECT_GT(pages.drop_new(), 0);
  EXPECT_FALSE(resident(blob_page(40)));
}

// Registered (the test executable is racetrap's library here): the pages mapped
// before are dropped except one written since it was mapped (a debugger's breakpoint
// or a text relocation: anonymous memory now), and a read maps its one page.
TEST(DemandPagedLibraries, RegisteredSegmentsFaultOnePageAndKeepWrittenPages) {
  for (size_t i = 0; i < kBlobPages; ++i) (void)read_blob(i * kPage);
  auto* page = const_cast<unsigned char*>(&kBlob[30 * kPage]);
  ASSERT_EQ(mprotect(page, kPage, PROT_READ | PROT_WRITE), 0);
  page[7] = 42;
  ASSERT_EQ(mprotect(page, kPage, PROT_READ), 0);

  EXPECT_EQ(drop_own_pages_again(), 0) << "nothing is registered yet: nothing to drop again";
  EXPECT_EQ(resident_blob_pages(), static_cast<int>(kBlobPages));
  const DemandPagingOutcome outcome = page_own_libraries_on_demand(reinterpret_cast<const void*>(&resident));
  if (!outcome.registered && (outcome.error == ENOSYS || outcome.error == EPERM))
    GTEST_SKIP() << "userfaultfd refused here (" << std::strerror(outcome.error) << "): fault-around stays";
  ASSERT_TRUE(outcome.registered) << "errno " << outcome.error;
  EXPECT_GE(outcome.libraries, 1);
  EXPECT_GT(outcome.pages_dropped, 0);
  EXPECT_EQ(resident_blob_pages(), 1) << "only the written page stays";
  EXPECT_TRUE(resident(blob_page(30)));
  EXPECT_EQ(read_blob(30 * kPage + 7), 42) << "a written page was dropped";

  (void)read_blob(20 * kPage);
  EXPECT_EQ(resident_blob_pages(), 2);
  (void)read_blob(21 * kPage);
  (void)read_blob(50 * kPage);
  EXPECT_EQ(resident_blob_pages(), 4);

  // The set-up's last step: the pages read since the registration leave again, the
  // written page stays with what was written.
  EXPECT_GE(drop_own_pages_again(), 3);
  EXPECT_EQ(resident_blob_pages(), 1);
  EXPECT_EQ(read_blob(30 * kPage + 7), 42) << "a written page was dropped";
}

}  // namespace
}  // namespace racetrap
