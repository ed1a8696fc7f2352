// demand_paged_libraries.h — racetrap's own libraries resident only as far as they run.
//
// A read fault on a file mapping makes the kernel map every page-cached page of
// the 64 KiB window around it (fault-around). racetrap's sample path touches most
// 64 KiB windows of libracetrap.so and libZydis, so both are resident nearly whole
// in every watched process (about 1.1 MiB), although a sample uses a fraction of
// their pages. A mapping registered with a userfaultfd in write-protect mode is
// exempt from fault-around: its read faults map one page each. The asynchronous
// write-protect mode (UFFD_FEATURE_WP_ASYNC, Linux 6.7) accepts any mapping and
// needs no thread to answer faults (there are none to answer: the registered
// mappings are read-only). The pages mapped before the registration (the loader's
// and start-up's) are dropped once, so what stays resident is what runs after it.
//
// Which mappings: the read-only segments of racetrap's library and of the
// libraries it alone brings into the process (its DT_NEEDED, transitively, less
// whatever the program's own objects need: a program that links liblzma itself
// keeps its liblzma as it would be natively); and of the program's objects only
// their unwind tables (.eh_frame_hdr onwards), which racetrap's stack captures read
// at every published watch: libc's alone put 96 KiB in the peak. The program's
// pages are never dropped.
//
// Contract: ordinary context only (dl_iterate_phdr takes the loader's lock,
// allocates). Nothing changes for the program: the registered ranges hold code and
// read-only data, a page is dropped only while it is a clean page-cache page (never
// one written since it was mapped: relocations, a debugger's breakpoint), and where
// the kernel refuses (older than 6.7, seccomp, a locked mapping) nothing is done.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace racetrap {

struct DemandPagingOutcome {
  bool registered = false;  // a userfaultfd took at least one range
  int libraries = 0;        // libraries whose read-only segments were registered
  int unwind_tables = 0;    // the program's objects whose unwind tables were registered
  long pages_dropped = 0;   // resident pages dropped after the registration
  int error = 0;            // errno of the first refusal (0: none)
};

// Registers the read-only segments of the loaded object containing `own_address`
// and of the libraries only it needs; the userfaultfd is kept open (above
// perf_fd_floor(), owned: the program cannot close it) for the life of the
// process: closing it would end the registration. Once per process; a forked child
// inherits none of it (the kernel drops the registration at fork) and is left as is.
DemandPagingOutcome page_own_libraries_on_demand(const void* own_address);

// Drops again the clean pages of the read-only ranges page_own_libraries_on_demand
// registered for racetrap's own libraries: the code that ran after that drop (the
// rest of the registration, the program pages' drop, the end of the set-up) mapped
// pages of its own that nothing runs again. Meant as the set-up's last call; what
// it runs itself after its own madvise (a page or two) stays. The count dropped
// (0 when nothing was registered).
long drop_own_pages_again();

// The program's read-only file pages (its objects' code and read-only data) that
// a one-off stage of racetrap's makes resident: note() before the stage, drop_new()
// after it drops the clean pages that were not resident at note() (the program had
// not touched them: if it does later, it faults them in as it would natively).
// racetrap's second-thread set-up reads /proc/self/maps through glibc's
// pthread_getattr_np (stdio and scanf code, 64 KiB windows of libc), looks up
// symbols, unwinds: pages the program itself may never use.
class ProgramPages {
 public:
  void note(const void* own_address);
  // The same for the given page-aligned [start, end) ranges instead of the
  // program's objects (tests).
  void note_ranges(const std::vector<std::pair<uintptr_t, uintptr_t>>& ranges);
  long drop_new();  // the count dropped

 private:
  std::vector<std::pair<uintptr_t, uintptr_t>> ranges_;
  std::vector<std::vector<uint64_t>> before_;  // pagemap entries at note(), per range
};

}  // namespace racetrap
