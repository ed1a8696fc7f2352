#!/usr/bin/env python3
"""run_reliability.py CASE — one reliability behaviour, checked for real.

Runs tests/reliability/programs/rel.c (and friends) under libracetrap.so and
compares with a run without it: same stdout, same exit status, no hang, and the
reports racetrap must (or must not) write. Paths come from the environment
(RT_PRELOAD, RT_REL, RT_LAUNCHER, RT_RAW_CHECK, RT_RACETRAP, RT_CC).
Exit 0 = pass, 77 = skipped, else fail with the reason on stderr.
"""
import glob
import os
import resource
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

PRELOAD = os.environ["RT_PRELOAD"]
REL = os.environ["RT_REL"]
TIMEOUT = 60


class Fail(Exception):
    pass


def run(argv, preload=True, cwd=None, env_extra=None, limit_fds=None, timeout=TIMEOUT, launcher=None):
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    # The default mode: these cases test what racetrap does to the program, which
    # must hold in whichever mode runs (value-change where breakpoints never fire).
    env.pop("RACETRAP_MODE", None)
    env["RACETRAP_SAMPLE_US"] = env.get("RACETRAP_SAMPLE_US", "500")
    if preload:
        env["LD_PRELOAD"] = PRELOAD
    if env_extra:
        env.update(env_extra)

    def pre():
        if limit_fds:
            resource.setrlimit(resource.RLIMIT_NOFILE, (limit_fds, limit_fds))

    cmd = (launcher or []) + argv
    start = time.monotonic()
    try:
        p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, preexec_fn=pre)
    except subprocess.TimeoutExpired:
        raise Fail(f"{' '.join(cmd)}: hung (no exit within {timeout} s)")
    p.elapsed = time.monotonic() - start
    return p


def reports(d, pid=None):
    pat = f"racetrap.{pid}" if pid else "racetrap.*"
    return sorted(f for f in glob.glob(os.path.join(d, pat)) if not f.endswith(".raw"))


def race_lines(path):
    with open(path, errors="replace") as f:
        return f.read().count("WARNING: racetrap: data race")


def same_as_native(mode_args, d, **kw):
    """Runs natively and under the preload; the stdout and status must agree."""
    native = run([REL] + mode_args, preload=False, cwd=d, **kw)
    traced = run([REL] + mode_args, preload=True, cwd=d, **kw)
    strip = lambda s: "\n".join(l for l in s.splitlines() if "pid" not in l and "child" not in l and "spawned" not in l)
    if traced.returncode != native.returncode:
        raise Fail(f"exit status {traced.returncode} under racetrap, {native.returncode} without; stderr:\n{traced.stderr}")
    if strip(traced.stdout) != strip(native.stdout):
        raise Fail(f"output differs:\n--- native\n{native.stdout}\n--- racetrap\n{traced.stdout}\nstderr:\n{traced.stderr}")
    return native, traced


def expect_report(d, pid, what):
    r = reports(d, pid)
    if not r:
        raise Fail(f"{what}: no report racetrap.{pid} in {d}: {os.listdir(d)}")
    if race_lines(r[0]) == 0:
        raise Fail(f"{what}: report {r[0]} lists no race")
    return r


def pid_after(text, word):
    for line in text.splitlines():
        parts = line.split()
        if word in parts:
            return int(parts[parts.index(word) + 1])
    raise Fail(f"no '{word} N' in output:\n{text}")


# --- cases -------------------------------------------------------------------

def case_fork(d):
    p = run([REL, "fork-race"], cwd=d)
    if p.returncode != 0:
        raise Fail(f"status {p.returncode}: {p.stderr}")
    child = pid_after(p.stdout, "child")
    expect_report(d, child, "forked child")


def case_fork_hammer(d):
    p = run([REL, "fork-hammer", "200"], cwd=d, timeout=80)
    if p.returncode != 0 or "forks ok 200 of 200" not in p.stdout:
        raise Fail(f"status {p.returncode}: {p.stdout}{p.stderr}")


def case_exec(d):
    p = run([REL, "exec-race"], cwd=d)
    if p.returncode != 0:
        raise Fail(f"status {p.returncode}: {p.stderr}")
    pid = pid_after(p.stdout, "pid")
    r = reports(d, pid) + sorted(glob.glob(os.path.join(d, f"racetrap.{pid}.[0-9]")))
    if len(r) != 2:
        raise Fail(f"expected two reports for pid {pid} (before and after exec), got {r}; stderr:\n{p.stderr}")


def case_posix_spawn(d):
    p = run([REL, "spawn-race"], cwd=d)
    if p.returncode != 0:
        raise Fail(f"status {p.returncode}: {p.stderr}")
    expect_report(d, pid_after(p.stdout, "spawned"), "posix_spawn child")


def case_vfork(d):
    p = run([REL, "vfork"], cwd=d)
    if p.returncode != 0 or "vfork child status 0" not in p.stdout:
        raise Fail(f"status {p.returncode}: {p.stdout}{p.stderr}")
    parent = int(p.stdout.split()[-1])
    r = expect_report(d, parent, "vfork parent")
    if len(reports(d)) != 1 or len(glob.glob(os.path.join(d, "*.raw"))) != 0:
        raise Fail(f"stray files: {os.listdir(d)}")


def case_daemon(d):
    pidfile = os.path.join(d, "daemon.pid")
    p = run([REL, "daemon", pidfile], cwd=d)
    if p.returncode != 0:
        raise Fail(f"status {p.returncode}: {p.stderr}")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if os.path.exists(pidfile) and open(pidfile).read().strip():
            pid = int(open(pidfile).read())
            if reports(d, pid):
                return expect_report(d, pid, "daemon")
        time.sleep(0.2)
    raise Fail(f"the daemon wrote no report: {os.listdir(d)}")


def case_system_popen(d):
    p = run([REL, "system"], cwd=d)
    if p.returncode != 0 or "system status 0" not in p.stdout or "popen lines 1 status 0" not in p.stdout:
        raise Fail(f"status {p.returncode}: {p.stdout}{p.stderr}")
    if len(reports(d)) < 2:
        raise Fail(f"expected the reports of both children: {os.listdir(d)}; stderr:\n{p.stderr}")


def case_threads_1000(d):
    p = run([REL, "threads-alive", "1000"], cwd=d)
    if p.returncode != 0 or "1000 threads were alive at once" not in p.stdout:
        raise Fail(f"status {p.returncode}: {p.stdout}{p.stderr[-2000:]}")


def case_threads_1000_fd64(d):
    # 1000 threads with 64 descriptors: most threads cannot get perf fds and run unwatched.
    p = run([REL, "threads-alive", "1000"], cwd=d, limit_fds=64)
    if p.returncode != 0 or "1000 threads were alive at once" not in p.stdout:
        raise Fail(f"status {p.returncode}: {p.stdout}{p.stderr[-2000:]}")


def case_threads_churn(d):
    n = "20000"
    p = run([REL, "threads-churn", n], cwd=d)
    if p.returncode != 0 or f"{n} threads" not in p.stdout:
        raise Fail(f"status {p.returncode}: {p.stdout}{p.stderr}")
    native = run([REL, "threads-churn", n], preload=False, cwd=d)
    if p.elapsed > 30:
        raise Fail(f"{n} threads took {p.elapsed:.1f} s under racetrap ({native.elapsed:.1f} s without)")
    print(f"{n} threads: {p.elapsed:.2f} s under racetrap, {native.elapsed:.2f} s without")


def case_thread_exits(d):
    same_as_native(["thread-exits"], d)


def case_exit_while_running(d):
    p = run([REL, "exit-while-running"], cwd=d)
    if p.returncode != 0 or "exiting with threads running" not in p.stdout:
        raise Fail(f"status {p.returncode}: {p.stdout}{p.stderr}")
    if glob.glob(os.path.join(d, "*.raw")):
        raise Fail(f"a raw stream was left behind: {os.listdir(d)}")


def case_small_stacks(d):
    same_as_native(["small-stacks"], d)


def case_altstack(d):
    alt = os.environ["RT_ALTSTACK"]
    p = run([alt, "1.0"], cwd=d)
    if p.returncode != 0 or p.stdout.strip() != "ok":
        raise Fail(f"status {p.returncode}: {p.stdout}{p.stderr}")
    depths = [int(line.split()[1]) for line in p.stderr.splitlines() if line.startswith("max-depth")]
    if len(depths) != 1:
        raise Fail(f"no max-depth line: {p.stderr}")
    print(f"SIGTRAP handler stack use on the program's sigaltstack: {depths[0]} bytes")
    # racetrap's handler ran on the program's own sigaltstack (it samples there),
    # and used less than the 16 KiB it requires to be left before it does its work
    # (the README: about 8.5 KiB).
    if depths[0] == 0:
        raise Fail("racetrap's handler never ran on the program's sigaltstack (no sample, or not SA_ONSTACK)")
    if depths[0] > 16 * 1024:
        raise Fail(f"racetrap's handler used {depths[0]} bytes of the program's sigaltstack, more than 16 KiB")


def case_close_all(d):
    for how in ["close_range", "closefrom", "procfd", "dup2"]:
        native, traced = same_as_native(["close-all", how], d)
        if not reports(d):
            raise Fail(f"close-all {how}: racetrap found nothing after the program closed its descriptors")
        for f in reports(d):
            os.unlink(f)


def case_rlimit_64(d):
    native, traced = same_as_native(["many-threads-race", "16"], d, limit_fds=64)
    if "opened 16" not in traced.stdout:
        raise Fail(f"the program could not open its files: {traced.stdout}")


def samples_of(stderr):
    for line in stderr.splitlines():
        if line.startswith("racetrap: stats:"):
            return int(line.split(" samples=")[1].split()[0])
    raise Fail(f"no stats line on stderr:\n{stderr}")


def case_sigtrap_chain(d):
    # The program's own SIGTRAP handler gets its raise() and int3, and racetrap
    # still samples and still finds the race after the handler is installed.
    native, traced = same_as_native(["sigtrap-chain"], d, env_extra={"RACETRAP_STATS": "1"})
    if samples_of(traced.stderr) == 0:
        raise Fail(f"no samples with the program's own SIGTRAP handler:\n{traced.stderr}")
    expect_report(d, None, "race after the program installed its SIGTRAP handler")


def case_signals_blocked(d):
    # Workers block every signal and wait for SIGUSR1 with sigwait, signalfd and
    # sigsuspend: the waits see SIGUSR1 only (never racetrap's SIGTRAP), and the
    # workers, busy with SIGTRAP blocked, are sampled.
    native, traced = same_as_native(["signals-blocked"], d, env_extra={"RACETRAP_STATS": "1"})
    if samples_of(traced.stderr) == 0:
        raise Fail(f"threads that block SIGTRAP were not sampled:\n{traced.stderr}")


def case_blocked_race(d):
    # Two threads race with SIGTRAP blocked: sampled, and the race is found.
    native, traced = same_as_native(["blocked-race"], d, env_extra={"RACETRAP_STATS": "1"})
    if samples_of(traced.stderr) == 0:
        raise Fail(f"no samples in threads that block SIGTRAP:\n{traced.stderr}")
    expect_report(d, None, "race between threads that block SIGTRAP")


def case_sigtrap_mask_view(d):
    # The program sees its own SIGTRAP mask: blocked where it blocked it (also in
    # a thread it created then), its raise() held until it unblocks, shown by
    # sigpending, taken by sigwait, ending a sigsuspend; same output as native.
    native, traced = same_as_native(["sigtrap-mask-view"], d)
    if "new thread inherits the block: 1" not in native.stdout:
        raise Fail(f"the native run does not show what the test expects:\n{native.stdout}")


def case_sigprof(d):
    same_as_native(["sigprof"], d)


def case_errno(d):
    p = run([REL, "errno"], cwd=d, env_extra={"RACETRAP_SAMPLE_US": "50"})
    if p.returncode != 0:
        raise Fail(f"{p.stdout}{p.stderr}")


def case_seccomp(d):
    launcher = os.environ["RT_LAUNCHER"]
    for err in ["EACCES", "ENOSYS"]:
        native = run([REL, "hello"], preload=False, cwd=d)
        # Only the program behind the filter is preloaded, not the launcher (whose own
        # start-up would print the self-test's line on a host whose breakpoints never fire).
        traced = run(["env", f"LD_PRELOAD={PRELOAD}", REL, "hello"], preload=False, cwd=d, launcher=[launcher, err])
        if traced.returncode != native.returncode or traced.stdout != native.stdout:
            raise Fail(f"{err}: differs from native: {traced.returncode} {traced.stdout!r} vs {native.returncode} {native.stdout!r}")
        lines = traced.stderr.splitlines()
        if len(lines) != 1 or not lines[0].startswith("racetrap: ") or "allow perf_event_open" not in lines[0]:
            raise Fail(f"{err}: expected one line on stderr saying why, got: {traced.stderr!r}")
    if reports(d):
        raise Fail("a report without perf?")


def case_unsupported_targets(d):
    rt = os.environ.get("RT_RACETRAP")
    cc = shlex.split(os.environ.get("RT_CC", "cc"))  # may be a launcher and the compiler: "ccache cc"
    if not rt or not os.path.exists(rt):
        raise Fail(f"RT_RACETRAP={rt!r} is not the racetrap command")
    src = os.path.join(d, "m.c")
    open(src, "w").write('#include <stdio.h>\nint main(){puts("hi");return 0;}\n')
    static = os.path.join(d, "static_prog")
    static_link = subprocess.run(cc + ["-static", src, "-o", static], capture_output=True, text=True)
    if static_link.returncode != 0:
        # A skip here would pass without checking the promise: the suite needs libc.a.
        raise Fail(f"cannot link a static program to try (install libc6-dev): {static_link.stderr[-500:]}")
    p = subprocess.run([rt, "run", "--", static], capture_output=True, text=True, timeout=30)
    if p.returncode == 0 or "static" not in p.stderr.lower() or "hi" in p.stdout:
        raise Fail(f"racetrap run accepted a static binary: {p.returncode} {p.stdout!r} {p.stderr!r}")
    setuid = os.path.join(d, "setuid_prog")
    subprocess.run(cc + [src, "-o", setuid], check=True)
    os.chown(setuid, 65534, 65534)
    os.chmod(setuid, 0o4755)
    p = subprocess.run([rt, "run", "--", setuid], capture_output=True, text=True, timeout=30)
    if "hi" not in p.stdout or "set-user-id" not in p.stderr.lower().replace("setuid", "set-user-id"):
        raise Fail(f"no setuid warning: {p.returncode} {p.stdout!r} {p.stderr!r}")


def case_report_no_overwrite(d):
    # The path racetrap wants is taken by a file and a symlink: neither is touched.
    # The program's pid is known before it starts: a shell waits for a line, then
    # execs it (same pid) once the paths are taken.
    proc = subprocess.Popen(["sh", "-c", 'read _ && exec env LD_PRELOAD="$1" RACETRAP_SAMPLE_US=500 "$0" race 1.5',
                             REL, PRELOAD], cwd=d, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env={k: v for k, v in os.environ.items() if k != "LD_PRELOAD"})
    pid = proc.pid
    victim = os.path.join(d, "victim")
    open(victim, "w").write("precious\n")
    open(os.path.join(d, f"racetrap.{pid}"), "w").write("mine\n")
    os.symlink(victim, os.path.join(d, f"racetrap.{pid}.1"))
    os.symlink(victim, os.path.join(d, f"racetrap.{pid}.raw"))
    out, _ = proc.communicate(input="go\n", timeout=TIMEOUT)
    if proc.returncode != 0:
        raise Fail(f"status {proc.returncode}")
    if open(victim).read() != "precious\n" or open(os.path.join(d, f"racetrap.{pid}")).read() != "mine\n":
        raise Fail("an existing file was overwritten")
    rep = os.path.join(d, f"racetrap.{pid}.2")
    if not os.path.exists(rep) or race_lines(rep) == 0:
        raise Fail(f"no report at the next free name: {os.listdir(d)}")
    if stat.S_IMODE(os.stat(rep).st_mode) != 0o600:
        raise Fail(f"report mode {oct(os.stat(rep).st_mode)}")


def case_report_unwritable_dir(d):
    ro = os.path.join(d, "ro")
    os.mkdir(ro, 0o555)
    # root ignores directory permissions: drop to nobody for the run.
    env = {"RACETRAP_LOG_PATH": os.path.join(ro, "racetrap")}
    demote = None
    if os.geteuid() == 0:
        os.chmod(d, 0o777)
        def demote():
            os.setgid(65534)
            os.setuid(65534)
    envd = dict(os.environ, LD_PRELOAD=PRELOAD, RACETRAP_SAMPLE_US="500", **env)
    p = subprocess.run([REL, "race", "1.0"], cwd=d, env=envd, capture_output=True, text=True, timeout=TIMEOUT,
                       preexec_fn=demote)
    if p.returncode != 0:
        raise Fail(f"status {p.returncode}: {p.stderr}")
    if "cannot write the" not in p.stderr or "here it is" not in p.stderr or "WARNING: racetrap: data race" not in p.stderr:
        raise Fail(f"no fallback to stderr: {p.stderr[-3000:]}")
    if os.listdir(ro):
        raise Fail(f"files in the unwritable dir: {os.listdir(ro)}")


def case_raw_survives_kill9(d):
    env = dict(os.environ, LD_PRELOAD=PRELOAD, RACETRAP_SAMPLE_US="200")
    proc = subprocess.Popen([REL, "race-forever"], cwd=d, env=env, stdout=subprocess.PIPE, text=True)
    time.sleep(1.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    raw = os.path.join(d, f"racetrap.{proc.pid}.raw")
    if not os.path.exists(raw):
        raise Fail(f"no raw stream after kill -9: {os.listdir(d)}")
    out = subprocess.run([os.environ["RT_RAW_CHECK"], raw], capture_output=True, text=True)
    if out.returncode != 0 or not out.stdout.startswith("races ") or int(out.stdout.split()[1]) == 0:
        raise Fail(f"raw stream has no race: {out.stdout}{out.stderr}")
    print(out.stdout.strip())


def case_report_library_at_exit(d):
    # Rendering lives in libracetrap_report.so, next to the preload: it is not
    # mapped while the program runs, and the report still appears at exit.
    lib = os.path.join(os.path.dirname(PRELOAD), "libracetrap_report.so")
    if not os.path.exists(lib):
        raise Fail(f"no {lib} next to the preload")
    env = dict(os.environ, LD_PRELOAD=PRELOAD, RACETRAP_SAMPLE_US="500")
    proc = subprocess.Popen([REL, "race-forever"], cwd=d, env=env, stdout=subprocess.PIPE, text=True)
    time.sleep(1.0)
    maps = open(f"/proc/{proc.pid}/maps").read()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    for name in ("libracetrap_report.so", "libdw", "libelf"):
        if name in maps:
            raise Fail(f"{name} is mapped while the program runs")
    if "libracetrap.so" not in maps:
        raise Fail("the preload is not mapped")
    p = run([REL, "race", "1.0"], cwd=d)
    if p.returncode != 0:
        raise Fail(f"status {p.returncode}: {p.stderr}")
    pid = pid_after(p.stdout, "pid")
    expect_report(d, pid, "at exit")
    report = reports(d, pid)[0]
    if f"report: {report}" not in p.stderr:
        raise Fail(f"no summary line naming {report}: {p.stderr}")
    if os.path.exists(os.path.join(d, f"racetrap.{pid}.raw")):
        raise Fail("the rendered raw stream was not removed")


def case_report_library_missing(d):
    # A preload without its report library next to it: the program runs as
    # always, the raw stream stays, and one stderr line says how to render it.
    alone = os.path.join(d, "alone")
    os.mkdir(alone)
    shutil.copy(PRELOAD, alone)
    out = os.path.join(d, "out")
    os.mkdir(out)
    env = {"LD_PRELOAD": os.path.join(alone, "libracetrap.so")}
    native = run([REL, "race", "1.0"], preload=False, cwd=out)
    p = run([REL, "race", "1.0"], preload=False, cwd=out, env_extra=env)
    if p.returncode != native.returncode or p.stdout.count("\n") != native.stdout.count("\n"):
        raise Fail(f"status {p.returncode} / output {p.stdout!r} vs native {native.returncode} / {native.stdout!r}")
    raws = glob.glob(os.path.join(out, "racetrap.*.raw"))
    if len(raws) != 1:
        raise Fail(f"expected the raw stream to stay: {os.listdir(out)}; stderr:\n{p.stderr}")
    if reports(out):
        raise Fail(f"a report appeared without the report library: {reports(out)}")
    lines = [l for l in p.stderr.splitlines() if l.startswith("racetrap:")]
    want = f"render them with `racetrap report {raws[0]}`"
    if len(lines) != 1 or want not in lines[0] or "libracetrap_report.so" not in lines[0]:
        raise Fail(f"expected one line ending in {want!r}, got:\n{p.stderr}")
    rendered = subprocess.run([os.environ["RT_RACETRAP"], "report", raws[0]], capture_output=True, text=True,
                              timeout=TIMEOUT)
    if rendered.returncode != 0 or "WARNING: racetrap: data race" not in rendered.stdout:
        raise Fail(f"racetrap report could not render the raw stream: {rendered.stdout[-2000:]}{rendered.stderr}")


def case_cxx_runtime_own(d):
    # racetrap links libstdc++ statically; a C++ program keeps its own C++ runtime:
    # same output (its operator new is called as often, exceptions thrown through
    # call_once and across threads land where they should), and its C++ runtime
    # symbols bind to its libstdc++, never to the preload.
    prog = os.environ["RT_CXX"]
    native = run([prog], preload=False, cwd=d)
    traced = run([prog], cwd=d, env_extra={"RACETRAP_SAMPLE_US": "100"})
    if native.returncode != 0 or traced.returncode != 0 or traced.stdout != native.stdout:
        raise Fail(f"status {traced.returncode} vs {native.returncode}; output:\n{traced.stdout}\n--- native:\n"
                   f"{native.stdout}\nstderr:\n{traced.stderr}")
    b = run([prog], cwd=d, env_extra={"LD_DEBUG": "bindings"})
    wrong = [l.strip() for l in b.stderr.splitlines()
             if "libracetrap.so" in l.split(" to ", 1)[-1].split(":", 1)[0]
             and any(f"`{s}'" in l for s in ("_Znwm", "_ZdlPv", "__cxa_throw", "__cxa_begin_catch",
                                                "__gxx_personality_v0", "__cxa_rethrow", "__dynamic_cast"))]
    if wrong:
        raise Fail("C++ runtime symbols bound to the preload:\n" + "\n".join(wrong[:10]))
    if "`__cxa_throw'" not in b.stderr:
        raise Fail("LD_DEBUG=bindings shows no __cxa_throw binding (test is not looking at the right thing)")


def case_exec_no_malloc(d):
    # execl/execle are async-signal-safe and used after vfork: racetrap's
    # interposers build the argv without allocating (the program counts its own
    # malloc calls around the two calls; native glibc makes none either).
    prog = os.environ["RT_EXEC_NO_MALLOC"]
    native = run([prog], preload=False, cwd=d)
    traced = run([prog], cwd=d)
    if native.returncode != 0:
        raise Fail(f"the check itself fails without racetrap: {native.stdout}{native.stderr}")
    if traced.returncode != 0:
        raise Fail(f"under racetrap: {traced.stdout}{traced.stderr}")


def main():
    name = sys.argv[1]
    fn = globals().get("case_" + name.replace("-", "_"))
    if fn is None:
        print(f"unknown case {name}", file=sys.stderr)
        return 2
    d = tempfile.mkdtemp(prefix=f"rt-rel-{name}-")
    try:
        rc = fn(d)
        if rc == 77:
            print("skipped")
            return 77
    except Fail as e:
        print(f"FAIL {name}: {e}", file=sys.stderr)
        print(f"(files kept in {d})", file=sys.stderr)
        return 1
    shutil.rmtree(d, ignore_errors=True)
    print(f"ok {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
