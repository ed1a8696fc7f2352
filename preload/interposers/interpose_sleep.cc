// interpose_sleep.cc — a thread that comes back from a sleep arms the board's
// current watches at once.
//
// A thread arms its debug registers at its own sampling ticks and after acquires.
// One that sleeps (nanosleep, clock_nanosleep, usleep: std::this_thread::sleep_for)
// uses little CPU time, so its next tick may be far off, and it returns with
// registers armed for the board as it was before it left the core: with many
// threads per core, the watches published meanwhile are the ones it could meet.
// sched_yield is left alone: racetrap's own spin loops call it, from signal handlers
// too, and would come here.
// These calls order nothing (no happens-before edge); the sync costs one load when
// the board did not change. errno is the program's, whatever the sync does.
#include <time.h>
#include <unistd.h>

#include "happens_before.h"
#include "real_function.h"
#include "signal_safety.h"

namespace racetrap {
namespace {

// After the program's call returned: bring the thread's registers up to date.
void rearm_after_leaving_core() {
  Runtime& rt = runtime();
  ThreadState* t = watched_thread(rt);
  if (t == nullptr || rt.mode == DetectionMode::kValueChange) return;
  ErrnoKeeper keep_errno;
  RuntimeScope scope(t);
  sync_watches(rt, t);
  mark_deferrable(t);
}

}  // namespace
}  // namespace racetrap

using racetrap::next_function;
using racetrap::rearm_after_leaving_core;

RACETRAP_INTERPOSE int nanosleep(const struct timespec* request, struct timespec* remaining) {
  static auto real = next_function<int (*)(const struct timespec*, struct timespec*)>("nanosleep");
  const int rc = real(request, remaining);
  rearm_after_leaving_core();
  return rc;
}

RACETRAP_INTERPOSE int clock_nanosleep(clockid_t clock, int flags, const struct timespec* request,
                                       struct timespec* remaining) {
  static auto real =
      next_function<int (*)(clockid_t, int, const struct timespec*, struct timespec*)>("clock_nanosleep");
  const int rc = real(clock, flags, request, remaining);
  rearm_after_leaving_core();
  return rc;
}

RACETRAP_INTERPOSE int usleep(useconds_t microseconds) {
  static auto real = next_function<int (*)(useconds_t)>("usleep");
  const int rc = real(microseconds);
  rearm_after_leaving_core();
  return rc;
}
