#!/usr/bin/env python3
"""promise_cases.py CASE — one promise of the README, tried as a user would.

Each case runs racetrap (the command or the preload) on a small program and
checks what the README says happens. Paths come from the environment:
RT_RACETRAP (the racetrap command), RT_PRELOAD (libracetrap.so), RT_INVERSION
(a program that changes directory, then makes a lock-order inversion: reported
every run, no sampling), RT_REL (tests/reliability's rel program), RT_BUILD_ROOT
(the build directory, for `meson install`). Exit 0 = pass, else fail with the
reason on stderr; no case skips.
"""
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

RACETRAP = os.environ["RT_RACETRAP"]
PRELOAD = os.environ["RT_PRELOAD"]
INVERSION = os.environ["RT_INVERSION"]
TIMEOUT = 60
INVERSION_TITLE = "WARNING: racetrap: lock-order-inversion (potential deadlock)"


class Fail(Exception):
    pass


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RACETRAP_") and k != "LD_PRELOAD"}
    env.update(extra)
    return env


def run(argv, cwd, env=None, preexec_fn=None):
    try:
        p = subprocess.run(argv, cwd=cwd, env=env if env is not None else clean_env(), capture_output=True,
                           text=True, timeout=TIMEOUT, preexec_fn=preexec_fn)
    except subprocess.TimeoutExpired:
        raise Fail(f"{argv}: no exit within {TIMEOUT} s")
    return p


def expect(cond, what, p=None):
    if not cond:
        detail = f"\n--- status {p.returncode}\n--- stdout\n{p.stdout[-3000:]}\n--- stderr\n{p.stderr[-3000:]}" if p else ""
        raise Fail(what + detail)


def files_in(d):
    return sorted(os.listdir(d))


def racetrap_lines(stderr):
    return [l for l in stderr.splitlines() if l.startswith("racetrap:")]


def as_nobody():
    """root ignores directory permissions: runs as nobody so an unwritable dir is unwritable."""
    if os.geteuid() != 0:
        return None

    def demote():
        os.setgid(65534)
        os.setuid(65534)
    return demote


def unwritable_dir(d):
    ro = os.path.join(d, "ro")
    os.mkdir(ro, 0o555)
    os.chmod(d, 0o777)
    return ro


# --- exit status -------------------------------------------------------------

def case_exit66_log_path_stderr(d):
    # The report goes to stderr (asked for as an option or a variable): still 66.
    for argv, env in ([[RACETRAP, "run", "--log-path", "stderr", "--", INVERSION], clean_env()],
                      [[RACETRAP, "run", "--", INVERSION], clean_env(RACETRAP_LOG_PATH="stderr")]):
        p = run(argv, d, env)
        expect(p.returncode == 66, f"{argv}: exit {p.returncode}, expected 66 (a report was printed)", p)
        expect(INVERSION_TITLE in p.stderr, "the report is not on stderr", p)
        expect(files_in(d) == [], f"files written although the report goes to stderr: {files_in(d)}")


def case_exit66_unwritable_dir(d):
    # The report directory is not writable: the report falls back to stderr, and
    # racetrap run still exits 66.
    ro = unwritable_dir(d)
    p = run([RACETRAP, "run", "--log-path", os.path.join(ro, "racetrap"), "--", INVERSION], d,
            clean_env(TMPDIR=d), preexec_fn=as_nobody())
    expect(p.returncode == 66, f"exit {p.returncode}, expected 66 (the report fell back to stderr)", p)
    expect("here it is" in p.stderr and INVERSION_TITLE in p.stderr, "no report on stderr", p)
    expect(os.listdir(ro) == [], f"files in the unwritable dir: {os.listdir(ro)}")


def case_exitcode_option(d):
    p = run([RACETRAP, "run", "--exitcode=3", "--", INVERSION], d)
    expect(p.returncode == 3, f"--exitcode=3: exit {p.returncode}", p)
    p = run([RACETRAP, "run", "--", INVERSION], d, clean_env(RACETRAP_EXITCODE="5"))
    expect(p.returncode == 5, f"RACETRAP_EXITCODE=5: exit {p.returncode}", p)
    p = run([RACETRAP, "run", "--", INVERSION], d)
    expect(p.returncode == 66, f"default: exit {p.returncode}, expected 66", p)


def case_status_passthrough(d):
    # Nothing reported: the program's own status, 128+N when signal N killed it.
    p = run([RACETRAP, "run", "--", "sh", "-c", "exit 7"], d)
    expect(p.returncode == 7, f"exit 7 came back as {p.returncode}", p)
    p = run([RACETRAP, "run", "--", "sh", "-c", "kill -TERM $$"], d)
    expect(p.returncode == 128 + signal.SIGTERM, f"SIGTERM came back as {p.returncode}, expected 143", p)
    p = run([RACETRAP, "run", "--", "sh", "-c", "kill -KILL $$"], d)
    expect(p.returncode == 128 + signal.SIGKILL, f"SIGKILL came back as {p.returncode}, expected 137", p)
    p = run([RACETRAP, "run", "--", "true"], d)
    expect(p.returncode == 0 and p.stderr == "", f"true: {p.returncode}", p)


# --- where the report goes ---------------------------------------------------

def case_relative_log_path_after_chdir(d):
    # A relative RACETRAP_LOG_PATH is taken from the directory the program started
    # in, even when it changes directory before reporting.
    os.mkdir(os.path.join(d, "out"))
    os.mkdir(os.path.join(d, "elsewhere"))
    os.mkdir(os.path.join(d, "elsewhere", "out"))
    for how in ("preload", "run"):
        if how == "preload":
            p = run([INVERSION, "elsewhere"], d, clean_env(LD_PRELOAD=PRELOAD, RACETRAP_LOG_PATH="out/rep"))
            expect(p.returncode == 0, "status", p)
        else:
            p = run([RACETRAP, "run", "--log-path", "out/rep", "--", INVERSION, "elsewhere"], d)
            expect(p.returncode == 66, "status", p)
        pid = p.stdout.split()[-1]
        want = os.path.join(d, "out", f"rep.{pid}")
        expect(os.path.exists(want), f"{how}: no report at {want}: out/ has {files_in(os.path.join(d, 'out'))}, "
                                     f"elsewhere/out/ has {files_in(os.path.join(d, 'elsewhere', 'out'))}", p)
        expect(files_in(os.path.join(d, "elsewhere", "out")) == [], "a report in the new directory")
        expect(f"report: {want}" in p.stderr, f"{how}: the summary line does not name {want}", p)


def case_log_path_stderr(d):
    # RACETRAP_LOG_PATH=stderr: the report on stderr, no file at all (no raw
    # stream left behind either).
    p = run([INVERSION], d, clean_env(LD_PRELOAD=PRELOAD, RACETRAP_LOG_PATH="stderr"))
    expect(p.returncode == 0, "status", p)
    expect(INVERSION_TITLE in p.stderr and "SUMMARY: racetrap: lock-order-inversion" in p.stderr,
           "no report on stderr", p)
    expect(files_in(d) == [], f"files written: {files_in(d)}")


def case_enable_0(d):
    # RACETRAP_ENABLE=0 loads the library and leaves the program untouched: no
    # report, nothing on stderr, same output and status, even with statistics asked.
    native = run([INVERSION], d, clean_env())
    p = run([INVERSION], d, clean_env(LD_PRELOAD=PRELOAD, RACETRAP_ENABLE="0", RACETRAP_STATS="1"))
    expect(p.returncode == native.returncode == 0, "status", p)
    expect(p.stderr == "", f"stderr is not empty: {p.stderr!r}")
    expect(files_in(d) == [], f"files written: {files_in(d)}")
    on = run([INVERSION], d, clean_env(LD_PRELOAD=PRELOAD, RACETRAP_ENABLE="1"))
    expect(INVERSION_TITLE in open(glob.glob(os.path.join(d, "racetrap.*"))[0]).read(),
           "with RACETRAP_ENABLE=1 the same program is reported (the check above means something)", on)


def case_raw_stream_unwritable_dir(d):
    # The report directory is not writable: the raw stream goes to $TMPDIR, so a
    # killed program still leaves its races there.
    rel = os.environ["RT_REL"]
    ro = unwritable_dir(d)
    tmp = os.path.join(d, "tmp")
    os.mkdir(tmp)
    os.chmod(tmp, 0o777)  # mkdir applies the umask
    env = clean_env(LD_PRELOAD=PRELOAD, RACETRAP_SAMPLE_US="200", RACETRAP_LOG_PATH=os.path.join(ro, "racetrap"),
                    TMPDIR=tmp)
    proc = subprocess.Popen([rel, "race-forever"], cwd=d, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, preexec_fn=as_nobody())
    raw = os.path.join(tmp, f"racetrap.{proc.pid}.raw")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (os.path.exists(raw) and os.path.getsize(raw) > 0):
        time.sleep(0.1)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    expect(os.listdir(ro) == [], f"files in the unwritable dir: {os.listdir(ro)}")
    expect(os.path.exists(raw), f"no raw stream at {raw}: {files_in(tmp)}")
    p = run([RACETRAP, "report", raw], d)
    expect(p.returncode == 0 and "WARNING: racetrap: data race" in p.stdout,
           f"racetrap report {raw} shows no race", p)


# --- bad values --------------------------------------------------------------

def case_bad_values(d):
    # One rule: one start-up line naming the option or variable and the value
    # used, and the program runs.
    checks = [
        ([RACETRAP, "run", "--sample-us=5", "--", INVERSION], clean_env(), "--sample-us='5'", "0", 66),
        ([RACETRAP, "run", "--format=bogus", "--", INVERSION], clean_env(), "--format='bogus'", "text", 66),
        ([RACETRAP, "run", "--", INVERSION], clean_env(RACETRAP_FORMAT="xml"), "RACETRAP_FORMAT='xml'", "text", 66),
        ([RACETRAP, "run", "--", INVERSION], clean_env(RACETRAP_SAMPLE_US="abc"), "RACETRAP_SAMPLE_US='abc'", "0",
         66),
        ([INVERSION], clean_env(LD_PRELOAD=PRELOAD, RACETRAP_FORMAT="xml"), "RACETRAP_FORMAT='xml'", "text", 0),
        ([INVERSION], clean_env(LD_PRELOAD=PRELOAD, RACETRAP_WATCHPOINTS="9"), "RACETRAP_WATCHPOINTS='9'", "4", 0),
    ]
    for argv, env, name, default, status in checks:
        work = tempfile.mkdtemp(dir=d)
        p = run(argv, work, env)
        expect(p.returncode == status, f"{argv} {name}: exit {p.returncode}, expected {status} (the program runs)", p)
        lines = [l for l in racetrap_lines(p.stderr) if name in l]
        expect(len(lines) == 1 and lines[0].endswith(f"using the default {default}"),
               f"{name}: expected one line naming it and the default {default}", p)
        expect(p.stderr.splitlines()[0] == lines[0], f"{name}: the line is not the first thing on stderr", p)
        expect(f"pid " in p.stdout, "the program did not run", p)
        texts = [f for f in glob.glob(os.path.join(work, "racetrap.*")) if not f.endswith((".json", ".sarif"))]
        expect(len(texts) == 1 and INVERSION_TITLE in open(texts[0]).read(), f"{name}: no text report", p)
    # A race-free run with a bad format still hears about it, at start-up.
    p = run(["true"], d, clean_env(LD_PRELOAD=PRELOAD, RACETRAP_FORMAT="xml"))
    expect(len(racetrap_lines(p.stderr)) == 1 and "RACETRAP_FORMAT='xml'" in p.stderr,
           "RACETRAP_FORMAT=xml is not warned about when nothing is reported", p)


# --- suppressions ------------------------------------------------------------

def readme_suppressions_example():
    readme = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "README.md")
    text = open(readme).read()
    start = text.index("# comments and blank lines are ignored")
    block = []
    for line in text[start:].splitlines():
        if not line.startswith("    ") and block and line.strip() == "":
            break
        block.append(line.strip())
    return [l for l in block if l]


def case_suppressions_readme_example(d):
    # The README's example, copied as it is, is accepted line by line, and a rule
    # with a trailing comment silences what it names.
    example = readme_suppressions_example()
    expect(len(example) >= 6, f"could not find the README's suppressions example: {example}")
    supp = os.path.join(d, "copied.supp")
    open(supp, "w").write("\n".join(example) + "\n")
    p = run([RACETRAP, "run", "--suppressions", supp, "--", INVERSION], d)
    expect(not [l for l in racetrap_lines(p.stderr) if "copied.supp:" in l], "the copied example has bad lines", p)
    own = os.path.join(d, "own.supp")
    open(own, "w").write("deadlock:b_then_a          # the inversion in chdir_inversion.c\n")
    p = run([RACETRAP, "run", "--suppressions", own, "--print-suppressions", "--", INVERSION], d)
    expect(p.returncode == 0 and INVERSION_TITLE not in p.stderr,
           "a rule with a trailing comment did not suppress the inversion", p)
    expect("deadlock:b_then_a" in p.stderr, "the matched rule is not listed as 'deadlock:b_then_a'", p)
    never = os.path.join(d, "never.supp")
    open(never, "w").write("race:foo$bar\n")
    p = run([RACETRAP, "run", "--suppressions", never, "--", "true"], d)
    expect(p.returncode == 0 and any("never.supp:1:" in l and "can never match" in l for l in racetrap_lines(p.stderr)),
           "no warning for a rule that can never match", p)


# --- installed layout --------------------------------------------------------

def case_installed_layout(d):
    # `meson install --destdir`, then racetrap run from there finds its library
    # (and its report library) in <libdir>/racetrap/.
    build = os.environ["RT_BUILD_ROOT"]
    dest = os.path.join(d, "dest")
    p = run(["meson", "install", "-C", build, "--destdir", dest, "--no-rebuild", "--quiet"], d, dict(os.environ))
    expect(p.returncode == 0, "meson install failed", p)
    found = glob.glob(os.path.join(dest, "**", "bin", "racetrap"), recursive=True)
    expect(len(found) == 1, f"no bin/racetrap under {dest}")
    installed = found[0]
    libs = glob.glob(os.path.join(dest, "**", "racetrap", "libracetrap.so"), recursive=True)
    expect(len(libs) == 1, f"no <libdir>/racetrap/libracetrap.so under {dest}")
    work = os.path.join(d, "work")
    os.mkdir(work)
    p = run([installed, "run", "--verbosity=1", "--", INVERSION], work)
    expect(p.returncode == 66 and INVERSION_TITLE in p.stderr, "the installed racetrap did not report", p)
    expect(f"preloading {os.path.realpath(libs[0])}" in p.stderr,
           f"the installed racetrap did not preload {libs[0]} (the build tree's library?)", p)


def mapping_rss(pid, suffix):
    """Rss (KiB) of the process's file mappings whose path ends with `suffix`."""
    total, current = 0, None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            fields = line.split()
            if fields and "-" in fields[0] and not fields[0].endswith(":"):
                current = fields[5] if len(fields) > 5 else ""
            elif fields and fields[0] == "Rss:" and current and os.path.basename(current).startswith(suffix):
                total += int(fields[1])
    return total


def case_library_pages_on_demand(d):
    # The README: a watched process's peak memory grows by about 1 MiB, because
    # racetrap's libraries are resident page by page as they run (Linux 6.7+), not in
    # the kernel's 64 KiB fault-around windows (about 1.5 MiB there). Half a second
    # into a 2-thread racy loop, libracetrap.so and libZydis hold well under what
    # fault-around maps of them (their sample path touches most 64 KiB windows: about
    # 520 and 540 KiB); where racetrap says it could not register them, fault-around's
    # figures are what the check expects instead.
    p = subprocess.Popen([os.environ["RT_REL"], "race", "1.0"], cwd=d, text=True, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE,
                         env=clean_env(LD_PRELOAD=PRELOAD, RACETRAP_VERBOSITY="2",
                                       RACETRAP_LOG_PATH=os.path.join(d, "racetrap")))
    time.sleep(0.5)
    own, zydis = mapping_rss(p.pid, "libracetrap.so"), mapping_rss(p.pid, "libZydis.so")
    out, err = p.communicate(timeout=TIMEOUT)
    paged = [l for l in racetrap_lines(err) if "paged on demand" in l]
    usual = [l for l in racetrap_lines(err) if "paged as usual" in l]
    expect(len(paged) + len(usual) == 1, f"one line on how the libraries are paged; stderr:\n{err}")
    if paged:
        expect(0 < own <= 320 and 0 < zydis <= 400,
               f"paged on demand, yet libracetrap.so {own} KiB and libZydis {zydis} KiB resident")
    else:
        expect(own >= 400 and zydis >= 400,
               f"paged as usual, yet libracetrap.so {own} KiB and libZydis {zydis} KiB resident")


CASES = {name[5:].replace("_", "-"): fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    name = sys.argv[1]
    if name not in CASES:
        print(f"unknown case {name}; cases: {' '.join(CASES)}", file=sys.stderr)
        return 2
    d = tempfile.mkdtemp(prefix=f"rt-promise-{name}-")
    try:
        CASES[name](d)
    except Fail as e:
        print(f"FAIL {name}: {e}", file=sys.stderr)
        print(f"(files kept in {d})", file=sys.stderr)
        return 1
    shutil.rmtree(d, ignore_errors=True)
    print(f"ok {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
