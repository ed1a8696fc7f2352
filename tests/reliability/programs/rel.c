// rel.c — the programs of the reliability suite, one per mode (argv[1]).
// Every mode prints a deterministic result on stdout and exits 0 when the
// program itself saw nothing wrong; run_reliability.py compares this with a run
// without racetrap and looks at the reports.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;
static const char* self_path;
static volatile long shared_counter;
static volatile int stop_flag;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char* what) {
  fprintf(stderr, "rel: %s: %s\n", what, strerror(errno));
  exit(3);
}

// --- a racy pair of threads (the race racetrap must find) -------------------
struct race_arg { double seconds; };
static void* racer(void* p) {
  double end = now() + ((struct race_arg*)p)->seconds;
  while (now() < end && !stop_flag)
    for (int i = 0; i < 1000; ++i) shared_counter++;  // RACE
  return NULL;
}
static void race_for(double seconds) {
  struct race_arg a = {seconds};
  pthread_t t[2];
  for (int i = 0; i < 2; ++i) if (pthread_create(&t[i], NULL, racer, &a) != 0) die("pthread_create");
  for (int i = 0; i < 2; ++i) pthread_join(t[i], NULL);
}

static int run_child(char* const argv[]) {
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) { execv(self_path, argv); _exit(127); }
  int st;
  waitpid(pid, &st, 0);
  return st;
}

// --- modes -----------------------------------------------------------------
static int mode_race(int argc, char** argv) {
  race_for(argc > 2 ? atof(argv[2]) : 1.0);
  printf("race done pid %d\n", (int)getpid());
  fflush(stdout);
  return 0;
}

static int mode_race_forever(void) {
  printf("pid %d\n", (int)getpid());
  fflush(stdout);
  race_for(1e9);
  return 0;
}

static int mode_fork_race(void) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    race_for(1.0);
    printf("child %d done\n", (int)getpid());
    return 0;
  }
  int st;
  waitpid(pid, &st, 0);
  printf("child %d status %d\n", (int)pid, WEXITSTATUS(st));
  return 0;
}

static pthread_mutex_t hammer_locks[8];
static void* hammer(void* p) {
  (void)p;
  long i = 0;
  while (!stop_flag) {
    pthread_mutex_t* m = &hammer_locks[(i++) % 8];
    pthread_mutex_lock(m);
    shared_counter++;
    pthread_mutex_unlock(m);
    if ((i & 1023) == 0) {  // thread handles too
      pthread_t t;
      struct race_arg zero = {0.0};
      if (pthread_create(&t, NULL, racer, &zero) == 0)
        pthread_join(t, NULL);
    }
  }
  return NULL;
}
static int mode_fork_hammer(int argc, char** argv) {
  int forks = argc > 2 ? atoi(argv[2]) : 200;
  for (int i = 0; i < 8; ++i) pthread_mutex_init(&hammer_locks[i], NULL);
  pthread_t t[4];
  for (int i = 0; i < 4; ++i) pthread_create(&t[i], NULL, hammer, NULL);
  int ok = 0;
  for (int i = 0; i < forks; ++i) {
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
      alarm(20);  // a deadlocked child dies instead of hanging the test
      // (The parent's threads may hold its own mutexes: the child uses fresh ones;
      // what is exercised is racetrap's internal state: clocks, handles, registry.)
      pthread_mutex_t fresh[8];
      for (int k = 0; k < 8; ++k) {
        pthread_mutex_init(&fresh[k], NULL);
        pthread_mutex_lock(&fresh[k]);
        pthread_mutex_unlock(&fresh[k]);
        pthread_mutex_destroy(&fresh[k]);
      }
      pthread_t c;
      struct race_arg a = {0.0};
      if (pthread_create(&c, NULL, racer, &a) != 0) _exit(4);
      pthread_join(c, NULL);
      void* p = malloc(100);
      free(p);
      exit(0);
    }
    int st;
    if (waitpid(pid, &st, 0) < 0) die("waitpid");
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) ++ok;
    else fprintf(stderr, "child %d: status 0x%x\n", (int)pid, st);
  }
  stop_flag = 1;
  for (int i = 0; i < 4; ++i) pthread_join(t[i], NULL);
  printf("forks ok %d of %d\n", ok, forks);
  return ok == forks ? 0 : 1;
}

static int mode_exec_race(void) {
  // Race, then exec this program again in race mode: both images report, the
  // first before the exec, the second at its exit (same pid).
  race_for(1.0);
  printf("before exec pid %d\n", (int)getpid());
  fflush(stdout);
  char* argv[] = {(char*)self_path, "race", "1.0", NULL};
  execv(self_path, argv);
  die("execv");
  return 1;
}

static int mode_spawn_race(void) {
  pid_t pid;
  char* argv[] = {(char*)self_path, "race", "1.0", NULL};
  if (posix_spawn(&pid, self_path, NULL, NULL, argv, environ) != 0) die("posix_spawn");
  int st;
  waitpid(pid, &st, 0);
  printf("spawned %d status %d\n", (int)pid, WEXITSTATUS(st));
  return 0;
}

static int mode_vfork(void) {
  // The parent races (and finds it); a vfork child execs /bin/true; the
  // parent's report must still be written at its own exit, not by the child.
  race_for(1.0);
  pid_t pid = vfork();
  if (pid == 0) {
    execl("/bin/true", "true", (char*)NULL);
    _exit(127);
  }
  int st;
  waitpid(pid, &st, 0);
  race_for(0.2);
  printf("vfork child status %d, parent pid %d\n", WEXITSTATUS(st), (int)getpid());
  return 0;
}

static int mode_daemon(int argc, char** argv) {
  const char* pidfile = argv[2];
  (void)argc;
  if (daemon(1, 1) != 0) die("daemon");
  race_for(1.0);
  FILE* f = fopen(pidfile, "w");
  fprintf(f, "%d\n", (int)getpid());
  fclose(f);
  return 0;
}

static int mode_system(void) {
  char cmd[PATH_MAX + 32];
  snprintf(cmd, sizeof cmd, "'%s' race 1.0", self_path);
  int st = system(cmd);
  printf("system status %d\n", WEXITSTATUS(st));
  snprintf(cmd, sizeof cmd, "'%s' race 1.0", self_path);
  FILE* p = popen(cmd, "r");
  if (!p) die("popen");
  char line[256];
  int lines = 0;
  while (fgets(line, sizeof line, p)) ++lines;
  printf("popen lines %d status %d\n", lines, WEXITSTATUS(pclose(p)));
  return 0;
}

static pthread_barrier_t barrier;
static void* wait_at_barrier(void* p) {
  (void)p;
  pthread_barrier_wait(&barrier);
  return NULL;
}
static int mode_threads_alive(int argc, char** argv) {
  int n = argc > 2 ? atoi(argv[2]) : 1000;
  pthread_t* t = calloc(n, sizeof *t);
  pthread_barrier_init(&barrier, NULL, n + 1);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  for (int i = 0; i < n; ++i)
    if (pthread_create(&t[i], &attr, wait_at_barrier, NULL) != 0) die("pthread_create");
  pthread_barrier_wait(&barrier);
  for (int i = 0; i < n; ++i) pthread_join(t[i], NULL);
  printf("%d threads were alive at once\n", n);
  return 0;
}

static void* tiny(void* p) { return p; }
static int mode_threads_churn(int argc, char** argv) {
  long n = argc > 2 ? atol(argv[2]) : 10000;
  long sum = 0;
  for (long i = 0; i < n; ++i) {
    pthread_t t;
    void* r;
    if (pthread_create(&t, NULL, tiny, (void*)i) != 0) die("pthread_create");
    pthread_join(t, &r);
    sum += (long)r;
  }
  printf("%ld threads, sum %ld\n", n, sum);
  return 0;
}

static int cleanups;
static void cleanup(void* p) { (void)p; __atomic_add_fetch(&cleanups, 1, __ATOMIC_SEQ_CST); }
static void* exits_via_pthread_exit(void* p) { pthread_cleanup_push(cleanup, NULL); pthread_exit(p); pthread_cleanup_pop(0); return NULL; }
static void* exits_via_cancel(void* p) {
  (void)p;
  pthread_cleanup_push(cleanup, NULL);
  for (;;) { pthread_testcancel(); usleep(1000); }
  pthread_cleanup_pop(0);
  return NULL;
}
static void* exits_via_return(void* p) { return p; }
static volatile int detached_done;
static void* detached(void* p) { (void)p; __atomic_add_fetch(&detached_done, 1, __ATOMIC_SEQ_CST); return NULL; }
static int mode_thread_exits(void) {
  int rounds = 200;
  for (int i = 0; i < rounds; ++i) {
    pthread_t a, b, c, d;
    void* r;
    pthread_create(&a, NULL, exits_via_pthread_exit, (void*)7);
    pthread_create(&b, NULL, exits_via_cancel, NULL);
    pthread_create(&c, NULL, exits_via_return, (void*)9);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_create(&d, &attr, detached, NULL);
    pthread_join(a, &r); if (r != (void*)7) return 1;
    pthread_cancel(b);
    pthread_join(b, &r); if (r != PTHREAD_CANCELED) return 1;
    pthread_join(c, &r); if (r != (void*)9) return 1;
    pthread_t e;
    pthread_create(&e, NULL, detached, NULL);
    pthread_detach(e);
  }
  while (detached_done < 2 * rounds) usleep(1000);
  printf("cleanups %d detached %d\n", cleanups, detached_done);
  return 0;
}

static int mode_exit_while_running(void) {
  struct race_arg a = {1e9};
  pthread_t t[3];
  for (int i = 0; i < 2; ++i) pthread_create(&t[i], NULL, racer, &a);
  usleep(1500 * 1000);
  printf("exiting with threads running\n");
  exit(0);
}

static long deep(int n) { volatile char pad[512]; pad[0] = (char)n; return n == 0 ? shared_counter++ : deep(n - 1) + pad[0]; }  // RACE
static void* small_stack_racer(void* p) {
  double end = now() + *(double*)p;
  long s = 0;
  while (now() < end) s += deep(12);
  return (void*)s;
}
static int mode_small_stacks(void) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, PTHREAD_STACK_MIN);
  double secs = 1.0;
  pthread_t t[4];
  for (int i = 0; i < 4; ++i) if (pthread_create(&t[i], &attr, small_stack_racer, &secs) != 0) die("pthread_create");
  for (int i = 0; i < 4; ++i) pthread_join(t[i], NULL);
  printf("small stacks ok (%d)\n", (int)PTHREAD_STACK_MIN);
  return 0;
}

static int mode_close_all(int argc, char** argv) {
  const char* how = argc > 2 ? argv[2] : "close_range";
  int devnull = open("/dev/null", O_RDWR);
  if (strcmp(how, "close_range") == 0) {
    if (syscall(SYS_close_range, 1000000, 1000001, 0) != 0 && errno == ENOSYS) return 5;
    if (close_range(3, ~0U, 0) != 0) die("close_range");
  } else if (strcmp(how, "closefrom") == 0) {
    closefrom(3);
  } else if (strcmp(how, "procfd") == 0) {
    DIR* d = opendir("/proc/self/fd");
    int dfd = dirfd(d);
    int fds[65536], n = 0;
    struct dirent* e;
    while ((e = readdir(d)) != NULL && n < 65536) {
      int fd = atoi(e->d_name);
      if (e->d_name[0] != '.' && fd > 2 && fd != dfd) fds[n++] = fd;
    }
    closedir(d);
    for (int i = 0; i < n; ++i)
      if (close(fds[i]) != 0) { fprintf(stderr, "close(%d): %s\n", fds[i], strerror(errno)); return 1; }
  } else if (strcmp(how, "dup2") == 0) {
    struct rlimit lim;
    getrlimit(RLIMIT_NOFILE, &lim);
    int top = lim.rlim_cur > 5000 ? 5000 : (int)lim.rlim_cur;
    for (int fd = 3; fd < top; ++fd)
      if (fd != devnull && dup2(devnull, fd) != fd) { fprintf(stderr, "dup2(%d): %s\n", fd, strerror(errno)); return 1; }
    for (int fd = 3; fd < top; ++fd) if (fd != devnull) close(fd);
  }
  // The program's fds behave as without racetrap: new ones start at 3.
  int p[2];
  if (pipe(p) != 0) die("pipe");
  if (write(p[1], "x", 1) != 1) die("write");
  char c;
  if (read(p[0], &c, 1) != 1) die("read");
  race_for(1.0);
  printf("closed all (%s), pipe ok\n", how);
  return 0;
}

static int mode_many_threads_race(int argc, char** argv) {
  int n = argc > 2 ? atoi(argv[2]) : 16;
  struct race_arg a = {1.0};
  pthread_t t[256];
  for (int i = 0; i < n; ++i) if (pthread_create(&t[i], NULL, racer, &a) != 0) die("pthread_create");
  for (int i = 0; i < n; ++i) pthread_join(t[i], NULL);
  // The program can still open files.
  int fds[16], opened = 0;
  for (int i = 0; i < 16; ++i) if ((fds[i] = open("/dev/null", O_RDONLY)) >= 0) ++opened;
  for (int i = 0; i < 16; ++i) if (fds[i] >= 0) close(fds[i]);
  printf("%d racing threads done, opened %d\n", n, opened);
  return 0;
}

static volatile int traps_seen;
static volatile int trap_masks_as_kernel;  // handler runs with the mask the kernel gives it
static void on_trap(int sig) {
  (void)sig;
  traps_seen++;
  // As the kernel sets it: the interrupted code's mask (SIGUSR1 blocked there), the
  // handler's sa_mask (SIGUSR2) and SIGTRAP itself; nothing else (SIGALRM).
  sigset_t now;
  pthread_sigmask(SIG_BLOCK, NULL, &now);
  if (sigismember(&now, SIGUSR1) == 1 && sigismember(&now, SIGUSR2) == 1 && sigismember(&now, SIGTRAP) == 1 &&
      sigismember(&now, SIGALRM) == 0)
    trap_masks_as_kernel++;
}
static int mode_sigtrap_chain(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_trap;
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, SIGUSR2);
  sigaction(SIGTRAP, &sa, NULL);
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &usr1, NULL);
  race_for(0.5);
  raise(SIGTRAP);
  __asm__ volatile("int3");
  race_for(0.3);
  pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
  struct sigaction old;
  sigaction(SIGTRAP, NULL, &old);
  printf("traps seen %d, with the kernel's mask %d, handler kept %d\n", traps_seen, trap_masks_as_kernel,
         old.sa_handler == on_trap);
  return traps_seen == 2 && trap_masks_as_kernel == 2 ? 0 : 1;
}

static volatile int usr1_seen;
static void on_usr1(int s) { (void)s; usr1_seen++; }
static void* blocked_worker(void* p) {
  int kind = *(int*)p;
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL);
  racer(&(struct race_arg){0.7});  // sampled while SIGTRAP is blocked
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  int got = 0;
  if (kind == 0) {  // sigwait on everything
    int sig;
    sigwait(&all, &sig);
    got = sig;
  } else if (kind == 1) {  // signalfd on everything
    int fd = signalfd(-1, &all, 0);
    struct signalfd_siginfo si;
    if (read(fd, &si, sizeof si) != sizeof si) die("read signalfd");
    got = (int)si.ssi_signo;
    close(fd);
  } else {  // sigsuspend with SIGUSR1 allowed
    sigset_t wait_mask = all;
    sigdelset(&wait_mask, SIGUSR1);
    sigdelset(&wait_mask, SIGTRAP);
    int r = sigsuspend(&wait_mask);
    got = (r == -1 && errno == EINTR && usr1_seen) ? SIGUSR1 : -1;
  }
  return (void*)(long)got;
}
static int mode_signals_blocked(void) {
  signal(SIGUSR1, on_usr1);
  const char* names[] = {"sigwait", "signalfd", "sigsuspend"};
  int ok = 0;
  for (int kind = 0; kind < 3; ++kind) {
    pthread_t t;
    int k = kind;
    pthread_create(&t, NULL, blocked_worker, &k);
    usleep(900 * 1000);
    pthread_kill(t, SIGUSR1);
    void* r;
    pthread_join(t, &r);
    printf("%s got %s\n", names[kind], (long)r == SIGUSR1 ? "SIGUSR1" : "something else");
    ok += (long)r == SIGUSR1;
  }
  return ok == 3 ? 0 : 1;
}

// The program's own view of SIGTRAP in its mask is kept although racetrap keeps
// SIGTRAP deliverable: every line printed here must be the same with and without
// racetrap (run_reliability.py compares them).
static volatile int own_traps;
static void on_own_trap(int s) { (void)s; own_traps++; }
static int trap_blocked_now(void) {
  sigset_t cur;
  pthread_sigmask(SIG_BLOCK, NULL, &cur);
  return sigismember(&cur, SIGTRAP);
}
static void* report_inherited(void* p) {
  (void)p;
  return (void*)(long)trap_blocked_now();
}
static int mode_sigtrap_mask_view(void) {
  signal(SIGTRAP, on_own_trap);
  sigset_t trap, old, pending;
  sigemptyset(&trap);
  sigaddset(&trap, SIGTRAP);
  pthread_sigmask(SIG_BLOCK, &trap, &old);
  printf("old mask had SIGTRAP: %d\n", sigismember(&old, SIGTRAP));
  printf("mask has SIGTRAP after blocking: %d\n", trap_blocked_now());
  sigset_t viaproc;
  sigprocmask(SIG_BLOCK, NULL, &viaproc);
  printf("sigprocmask shows it: %d\n", sigismember(&viaproc, SIGTRAP));
  race_for(0.3);  // sampled meanwhile (racetrap's SIGTRAPs never show up below)
  raise(SIGTRAP);
  printf("handler ran while blocked: %d\n", own_traps);
  sigpending(&pending);
  printf("pending after raise: %d\n", sigismember(&pending, SIGTRAP));
  pthread_t t;
  void* inherited;
  pthread_create(&t, NULL, report_inherited, NULL);
  pthread_join(t, &inherited);
  printf("new thread inherits the block: %ld\n", (long)inherited);
  pthread_sigmask(SIG_UNBLOCK, &trap, NULL);
  printf("handler ran after unblocking: %d\n", own_traps);
  sigprocmask(SIG_BLOCK, &trap, NULL);
  raise(SIGTRAP);
  int sig = 0;
  sigwait(&trap, &sig);
  printf("sigwait took signal %d, handler ran %d\n", sig, own_traps);
  sigpending(&pending);
  printf("pending after sigwait: %d\n", sigismember(&pending, SIGTRAP));
  sigset_t none;
  sigemptyset(&none);
  raise(SIGTRAP);
  int r = sigsuspend(&none);
  printf("sigsuspend returned %d errno EINTR %d, handler ran %d\n", r, errno == EINTR, own_traps);
  pthread_sigmask(SIG_SETMASK, &none, &old);
  printf("SETMASK old had SIGTRAP: %d, now blocked: %d\n", sigismember(&old, SIGTRAP), trap_blocked_now());
  return 0;
}

// Two threads race with every signal blocked (SIGTRAP included): racetrap must
// still sample them and find the race.
static void* blocked_racer(void* p) {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL);
  return racer(p);
}
static int mode_blocked_race(void) {
  struct race_arg a = {1.0};
  pthread_t t[2];
  for (int i = 0; i < 2; ++i) if (pthread_create(&t[i], NULL, blocked_racer, &a) != 0) die("pthread_create");
  for (int i = 0; i < 2; ++i) pthread_join(t[i], NULL);
  printf("raced with SIGTRAP blocked\n");
  return 0;
}

static volatile long prof_ticks;
static void on_prof(int s) { (void)s; prof_ticks++; }
static int mode_sigprof(void) {
  signal(SIGPROF, on_prof);
  struct itimerval it = {{0, 1000}, {0, 1000}};
  setitimer(ITIMER_PROF, &it, NULL);
  race_for(1.0);
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_PROF, &off, NULL);
  printf("profiling ticks arrived: %s\n", prof_ticks > 50 ? "yes" : "no");
  return 0;
}

static void* errno_checker(void* p) {
  double end = now() + *(double*)p;
  long bad = 0;
  while (now() < end) {
    for (int i = 0; i < 100000; ++i) {
      errno = i;
      shared_counter += i;  // RACE (so traps happen here too)
      if (errno != i) ++bad;
    }
  }
  return (void*)bad;
}
static int mode_errno(void) {
  double secs = 1.0;
  pthread_t t[2];
  for (int i = 0; i < 2; ++i) pthread_create(&t[i], NULL, errno_checker, &secs);
  long bad = 0;
  for (int i = 0; i < 2; ++i) { void* r; pthread_join(t[i], &r); bad += (long)r; }
  printf("errno changed under the program: %ld times\n", bad);
  return bad == 0 ? 0 : 1;
}

static int mode_hello(void) {
  printf("hello from rel, 6*7=%d\n", 6 * 7);
  race_for(0.3);
  return 7;
}

int main(int argc, char** argv) {
  self_path = "/proc/self/exe";
  static char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) { exe[n] = 0; self_path = exe; }
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char* m = argc > 1 ? argv[1] : "hello";
#define MODE(name, call) if (strcmp(m, name) == 0) return call;
  MODE("race", mode_race(argc, argv))
  MODE("race-forever", mode_race_forever())
  MODE("fork-race", mode_fork_race())
  MODE("fork-hammer", mode_fork_hammer(argc, argv))
  MODE("exec-race", mode_exec_race())
  MODE("spawn-race", mode_spawn_race())
  MODE("vfork", mode_vfork())
  MODE("daemon", mode_daemon(argc, argv))
  MODE("system", mode_system())
  MODE("threads-alive", mode_threads_alive(argc, argv))
  MODE("threads-churn", mode_threads_churn(argc, argv))
  MODE("thread-exits", mode_thread_exits())
  MODE("exit-while-running", mode_exit_while_running())
  MODE("small-stacks", mode_small_stacks())
  MODE("close-all", mode_close_all(argc, argv))
  MODE("many-threads-race", mode_many_threads_race(argc, argv))
  MODE("sigtrap-chain", mode_sigtrap_chain())
  MODE("signals-blocked", mode_signals_blocked())
  MODE("sigtrap-mask-view", mode_sigtrap_mask_view())
  MODE("blocked-race", mode_blocked_race())
  MODE("sigprof", mode_sigprof())
  MODE("errno", mode_errno())
  MODE("hello", mode_hello())
  fprintf(stderr, "rel: unknown mode %s\n", m);
  (void)run_child;
  return 2;
}
