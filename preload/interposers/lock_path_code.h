// lock_path_code.h — the lock interposers' paths (mutex, rwlock, spin lock) made
// ready before a thread's first lock runs them: their code, kept in a section of
// its own (racetrap_lock_paths), mapped, and their real functions looked up.
// racetrap's code is paged on demand (lib/engine/demand_paged_libraries.h): a page
// no thread ran since the second-thread set-up is mapped at its first run, a page
// fault. Two threads that run it first at the same time, as the two threads of an
// ABBA deadlock released together from a barrier do, both fault on the same page
// and leave the fault together, and their first locks then meet in each other's
// window (measured with TSC stamps, both threads at real-time priority, 100
// barrier-started spin-lock runs: 14 hung with racetrap's code paged on demand, 7
// with it paged as usual, and in the hung runs the two threads left the lock
// interposer's first fault within tens of cycles of each other). The mutex paths
// were once left in the hot text (preload/hot_text.ld), resident only as long as
// its order put something every sampled process runs on each of their pages:
// ordered by how many programs run each function, the pages with only lock paths
// on them were first run by an ABBA program's two threads together, and the mutex
// shape hung 5 to 8 times in 50. What runs from a lock's interposer to its real
// call, and from the real call back, is here; the general path's bookkeeping
// (lock_call_slow and the lock-order calls it makes) runs before the first lock
// or after the second is taken, outside that window, and stays in the hot text.
// Ordinary context.
#pragma once

// Places a function in the section.
#define RACETRAP_LOCK_PATH_CODE __attribute__((section("racetrap_lock_paths")))

namespace racetrap {

// Prepares the lock paths before a thread's first lock runs them:
// the section's pages mapped (a read of one byte of each), the interposers' real
// functions looked up (a first lookup is a cold binary search over names, which
// two threads making their first call at once would run side by side, the later
// one catching up on the earlier one's warmed caches). By a creator for its new
// thread, before the thread runs (prepare_lock_tracking), and by the main thread's
// first lock.
void prepare_lock_paths();

// The interposers' halves of prepare_lock_paths (interpose_rwlock.cc,
// interpose_spin_once.cc): their real functions' caches filled.
void resolve_rwlock_functions();
void resolve_spin_lock_functions();

}  // namespace racetrap
