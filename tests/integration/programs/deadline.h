// deadline.h — how long the test programs' loops run: until the calling thread
// has used `seconds` of CPU time (so a loaded machine still does the same work,
// hence gets the same number of samples), but never longer than 4x that in wall
// time. The clocks are read only every 64th call (a CPU-time clock read is a
// system call).
#pragma once

#include <time.h>

static inline double clock_seconds(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct deadline {
  double cpu_end, wall_end;
  unsigned countdown;
};

static inline struct deadline deadline_after(double seconds) {
  struct deadline d = {clock_seconds(CLOCK_THREAD_CPUTIME_ID) + seconds,
                       clock_seconds(CLOCK_MONOTONIC) + 4 * seconds, 0};
  return d;
}

static inline int before(struct deadline* d) {
  if (d->countdown-- > 0) return 1;
  d->countdown = 63;
  return clock_seconds(CLOCK_THREAD_CPUTIME_ID) < d->cpu_end &&
         clock_seconds(CLOCK_MONOTONIC) < d->wall_end;
}
