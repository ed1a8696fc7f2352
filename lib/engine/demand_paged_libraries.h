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
// keeps its liblzma as it would be natively).
//
// Contract: ordinary context only (dl_iterate_phdr takes the loader's lock,
// allocates). Nothing changes for the program: the registered ranges hold code and
// read-only data, a page is dropped only while it is a clean page-cache page (never
// one written since it was mapped: relocations, a debugger's breakpoint), and where
// the kernel refuses (older than 6.7, seccomp, a locked mapping) nothing is done.
#pragma once

namespace racetrap {

struct DemandPagingOutcome {
  bool registered = false;  // a userfaultfd took at least one range
  int libraries = 0;        // libraries whose read-only segments were registered
  long pages_dropped = 0;   // resident pages dropped after the registration
  int error = 0;            // errno of the first refusal (0: none)
};

// Registers the read-only segments of the loaded object containing `own_address`
// and of the libraries only it needs; the userfaultfd is kept open (above
// perf_fd_floor(), owned: the program cannot close it) for the life of the
// process: closing it would end the registration. Once per process; a forked child
// inherits none of it (the kernel drops the registration at fork) and is left as is.
DemandPagingOutcome page_own_libraries_on_demand(const void* own_address);

}  // namespace racetrap
