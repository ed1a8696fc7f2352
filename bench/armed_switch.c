// armed_switch.c — what an enabled hardware breakpoint costs a thread outside its
// own traps, on this host: at its context switches (the kernel writes the debug
// registers when it switches such a thread in and out), in CPU-bound code (the
// interrupts and exits that happen anyway), and what re-pointing one costs right
// after a blocking call against in a hot loop. Each thread's breakpoint watches an
// unrelated word of its own that nothing touches, so it never fires. Runs without
// the preload. Race-free.
//
//   armed_switch pingpong [round_trips] [rounds]
//     two threads pass a byte back and forth over two pipes; rounds alternate
//     none / one thread armed / both armed; prints CPU time per round trip (both
//     threads) for each, the medians over the rounds.
//   armed_switch spin [iterations_millions] [rounds]
//     one thread runs a fixed register-and-memory loop; rounds alternate unarmed /
//     armed; prints the CPU time of each and the medians.
//   armed_switch fault [MiB] [rounds]
//     maps MiB of fresh anonymous memory, writes one byte per page (the kernel
//     clears each page at its first touch) and unmaps it; rounds alternate unarmed /
//     armed; prints thread CPU per page.
//   armed_switch read FILE [rounds]
//     reads FILE (in the page cache after the first round) with 128 KiB read()s
//     into one buffer (the kernel's copy to user memory); rounds alternate unarmed /
//     armed / armed but disabled around each read() (PERF_EVENT_IOC_DISABLE before,
//     ENABLE after, as racetrap's read interposer does); prints thread CPU per MiB.
//     Optional third argument: the read size in KiB (default 128).
//   armed_switch modify [count] [rounds]
//     re-points the thread's breakpoint (PERF_EVENT_IOC_MODIFY_ATTRIBUTES) COUNT
//     times back to back, then COUNT times each right after a 1 us nanosleep (a
//     blocking call: a timer interrupt and a switch in between), and the same for a
//     PERF_EVENT_IOC_DISABLE + ENABLE pair; prints the ioctl's own time (the sleep
//     is not counted) per call.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int open_breakpoint(const void* address, int enabled) {
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.type = PERF_TYPE_BREAKPOINT;
  attr.size = sizeof attr;
  attr.bp_type = HW_BREAKPOINT_W;
  attr.bp_addr = (unsigned long)address;
  attr.bp_len = HW_BREAKPOINT_LEN_8;
  attr.sample_period = 1;
  attr.exclude_kernel = 1;
  attr.exclude_hv = 1;
  attr.disabled = enabled ? 0 : 1;
  return (int)syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
}

static double now_ns(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int compare_doubles(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

static double median(double* values, int n) {
  qsort(values, (size_t)n, sizeof *values, compare_doubles);
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// ---- pingpong ----
static int to_peer[2], to_main[2];
static long round_trips;
static int peer_armed;
static volatile long peer_word;

static void* peer(void* arg) {
  (void)arg;
  int fd = -1;
  if (peer_armed && (fd = open_breakpoint((const void*)&peer_word, 1)) < 0) {
    perror("perf_event_open (peer)");
    exit(2);
  }
  char c;
  for (long i = 0; i < round_trips; ++i) {
    if (read(to_peer[0], &c, 1) != 1 || write(to_main[1], &c, 1) != 1) exit(3);
  }
  if (fd >= 0) close(fd);
  return NULL;
}

static volatile long main_word;

static double pingpong_round(int armed_threads) {
  if (pipe(to_peer) != 0 || pipe(to_main) != 0) exit(3);
  peer_armed = armed_threads >= 2;
  int fd = -1;
  if (armed_threads >= 1 && (fd = open_breakpoint((const void*)&main_word, 1)) < 0) {
    perror("perf_event_open");
    exit(2);
  }
  const double cpu0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
  pthread_t t;
  pthread_create(&t, NULL, peer, NULL);
  char c = 'x';
  for (long i = 0; i < round_trips; ++i) {
    if (write(to_peer[1], &c, 1) != 1 || read(to_main[0], &c, 1) != 1) exit(3);
  }
  pthread_join(t, NULL);
  const double cpu = now_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
  if (fd >= 0) close(fd);
  close(to_peer[0]), close(to_peer[1]), close(to_main[0]), close(to_main[1]);
  return cpu / round_trips;
}

// ---- spin ----
static volatile unsigned long spin_sink;
static volatile long spin_word;

static double spin_round(long iterations, int armed) {
  int fd = -1;
  if (armed && (fd = open_breakpoint((const void*)&spin_word, 1)) < 0) {
    perror("perf_event_open");
    exit(2);
  }
  static unsigned long table[4096];
  const double cpu0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
  unsigned long x = 1;
  for (long i = 0; i < iterations; ++i) {
    x = x * 6364136223846793005ul + 1442695040888963407ul;
    table[(x >> 33) & 4095] += x;
  }
  spin_sink = x + table[17];
  const double cpu = now_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
  if (fd >= 0) close(fd);
  return cpu;
}

// ---- fault ----
static volatile long fault_word;

static double fault_round(long mib, int armed) {
  int fd = -1;
  if (armed && (fd = open_breakpoint((const void*)&fault_word, 1)) < 0) {
    perror("perf_event_open");
    exit(2);
  }
  const size_t bytes = (size_t)mib << 20;
  const double cpu0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
  char* p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) exit(3);
  for (size_t off = 0; off < bytes; off += 4096) p[off] = 1;
  munmap(p, bytes);
  const double cpu = now_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
  if (fd >= 0) close(fd);
  return cpu / (double)(bytes / 4096);
}

// ---- read ----
static volatile long read_word;

static long read_kib = 128;

static double read_round(const char* path, int armed, int suspended) {
  int fd = -1;
  if (armed && (fd = open_breakpoint((const void*)&read_word, 1)) < 0) {
    perror("perf_event_open");
    exit(2);
  }
  static char buffer[4096 * 1024];
  const size_t size = (size_t)read_kib * 1024;
  const int in = open(path, O_RDONLY);
  if (in < 0) {
    perror(path);
    exit(2);
  }
  long total = 0;
  const double cpu0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
  for (;;) {
    if (suspended) ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
    const ssize_t n = read(in, buffer, size);
    if (suspended) ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
    if (n <= 0) break;
    total += n;
  }
  const double cpu = now_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
  close(in);
  if (fd >= 0) close(fd);
  return cpu / ((double)total / (1 << 20));
}

// ---- modify ----
static volatile long modify_words[2];

static double modify_round(long count, int after_sleep, int disable_enable) {
  int fd = open_breakpoint((const void*)&modify_words[0], 1);
  if (fd < 0) {
    perror("perf_event_open");
    exit(2);
  }
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.type = PERF_TYPE_BREAKPOINT;
  attr.size = sizeof attr;
  attr.bp_type = HW_BREAKPOINT_W;
  attr.bp_len = HW_BREAKPOINT_LEN_8;
  attr.sample_period = 1;
  attr.exclude_kernel = 1;
  attr.exclude_hv = 1;
  const struct timespec micro = {0, 1000};
  double total = 0;
  for (long i = 0; i < count; ++i) {
    if (after_sleep) nanosleep(&micro, NULL);
    const double t0 = now_ns(CLOCK_MONOTONIC);
    if (disable_enable) {
      ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
      ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
    } else {
      attr.bp_addr = (unsigned long)&modify_words[i & 1];
      if (ioctl(fd, PERF_EVENT_IOC_MODIFY_ATTRIBUTES, &attr) != 0) {
        perror("PERF_EVENT_IOC_MODIFY_ATTRIBUTES");
        exit(2);
      }
    }
    total += now_ns(CLOCK_MONOTONIC) - t0;
  }
  close(fd);
  return total / count;
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "pingpong";
  const long count = argc > 2 ? atol(argv[2]) : 0;  // (read: the file)
  const int rounds = argc > 3 && strcmp(mode, "read") != 0 ? atoi(argv[3]) : 7;
  if (rounds < 1 || rounds > 1000) return 1;
  double a[1000], b[1000], c[1000], d[1000];
  if (strcmp(mode, "pingpong") == 0) {
    round_trips = count > 0 ? count : 20000;
    for (int r = 0; r < rounds; ++r) {
      a[r] = pingpong_round(0);
      b[r] = pingpong_round(1);
      c[r] = pingpong_round(2);
    }
    printf("pingpong, %ld round trips x %d rounds: CPU ns per round trip (both threads), median\n", round_trips,
           rounds);
    const double none = median(a, rounds), one = median(b, rounds), both = median(c, rounds);
    printf("  none armed   %8.0f\n  one armed    %8.0f  (+%.0f)\n  both armed   %8.0f  (+%.0f)\n", none, one,
           one - none, both, both - none);
  } else if (strcmp(mode, "spin") == 0) {
    const long iterations = (count > 0 ? count : 200) * 1000000L;
    for (int r = 0; r < rounds; ++r) {
      a[r] = spin_round(iterations, 0);
      b[r] = spin_round(iterations, 1);
    }
    const double unarmed = median(a, rounds), armed = median(b, rounds);
    printf("spin, %ld M iterations x %d rounds: thread CPU ms, median\n  unarmed %9.2f\n  armed   %9.2f  (ratio %.4f)\n",
           iterations / 1000000, rounds, unarmed / 1e6, armed / 1e6, armed / unarmed);
  } else if (strcmp(mode, "fault") == 0) {
    const long mib = count > 0 ? count : 64;
    for (int r = 0; r < rounds; ++r) {
      a[r] = fault_round(mib, 0);
      b[r] = fault_round(mib, 1);
    }
    const double unarmed = median(a, rounds), armed = median(b, rounds);
    printf("fault, %ld MiB x %d rounds: thread CPU ns per first-touched page, median\n  unarmed %8.0f\n  armed   %8.0f  (+%.0f)\n",
           mib, rounds, unarmed, armed, armed - unarmed);
  } else if (strcmp(mode, "read") == 0) {
    if (argc < 3) return 1;
    const int read_rounds = argc > 3 ? atoi(argv[3]) : 7;
    if (argc > 4) read_kib = atol(argv[4]);
    if (read_rounds < 1 || read_rounds > 1000 || read_kib < 1 || read_kib > 4096) return 1;
    for (int r = 0; r < read_rounds; ++r) {
      a[r] = read_round(argv[2], 0, 0);
      b[r] = read_round(argv[2], 1, 0);
      c[r] = read_round(argv[2], 1, 1);
    }
    const double unarmed = median(a, read_rounds), armed = median(b, read_rounds);
    const double suspended = median(c, read_rounds);
    printf("read, %s in %ld KiB reads x %d rounds: thread CPU us per MiB read, median\n"
           "  unarmed                    %8.1f\n  armed                      %8.1f  (+%.1f)\n"
           "  armed, disabled per read   %8.1f  (+%.1f)\n",
           argv[2], read_kib, read_rounds, unarmed / 1e3, armed / 1e3, (armed - unarmed) / 1e3, suspended / 1e3,
           (suspended - unarmed) / 1e3);
  } else if (strcmp(mode, "modify") == 0) {
    const long n = count > 0 ? count : 20000;
    for (int r = 0; r < rounds; ++r) {
      a[r] = modify_round(n, 0, 0);
      b[r] = modify_round(n, 1, 0);
      c[r] = modify_round(n, 0, 1);
      d[r] = modify_round(n, 1, 1);
    }
    printf("modify, %ld calls x %d rounds: ns per call (the ioctls only), median\n", n, rounds);
    printf("  MODIFY_ATTRIBUTES back to back     %8.0f\n", median(a, rounds));
    printf("  MODIFY_ATTRIBUTES after a sleep    %8.0f\n", median(b, rounds));
    printf("  DISABLE + ENABLE back to back      %8.0f\n", median(c, rounds));
    printf("  DISABLE + ENABLE after a sleep     %8.0f\n", median(d, rounds));
  } else {
    fprintf(stderr, "usage: armed_switch pingpong|spin|fault|read|modify [count|file] [rounds]\n");
    return 1;
  }
  return 0;
}
