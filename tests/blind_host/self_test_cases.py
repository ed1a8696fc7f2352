#!/usr/bin/env python3
"""self_test_cases.py CASE RACETRAP PRELOAD REL — the start-up breakpoint self-test.

The failure branch (a host that accepts hardware breakpoints and never delivers
their traps) is reached on any host with the fault-injection switch
RACETRAP_TEST_SILENT_BREAKPOINTS=1: the self-test and `racetrap check` then arm a
word beside the one they write, so no trap comes. The `fires-*` cases check the
other branch and need a host whose breakpoints fire (suite 'breakpoints').
REL is tests/reliability/programs/rel.c. Exit 0 = pass, else the reason on stderr.
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

NOTICE_START = "racetrap: hardware breakpoints are accepted but never fire on this machine"
SILENT = {"RACETRAP_TEST_SILENT_BREAKPOINTS": "1"}
# The hardware mode forced: on a silent host nothing can be watched.
SILENT_WATCHPOINTS = dict(SILENT, RACETRAP_MODE="watchpoints")
VALUE_CHANGE_TITLE = "WARNING: racetrap: data race (value changed)"


class Fail(Exception):
    pass


def run(argv, cwd, preload=None, env_extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RACETRAP_") and k != "LD_PRELOAD"}
    env["RACETRAP_SAMPLE_US"] = "500"
    if preload:
        env["LD_PRELOAD"] = preload
    env.update(env_extra or {})
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def same_output(a, b):
    """Equal stdout, but for the pid the program prints."""
    return re.sub(r"pid \d+", "pid N", a) == re.sub(r"pid \d+", "pid N", b)


def notices(stderr):
    return [l for l in stderr.splitlines() if l.startswith(NOTICE_START)]


def reports(d):
    return [f for f in glob.glob(os.path.join(d, "racetrap.*")) if not f.endswith(".raw")]


def stats_line(stderr):
    lines = [l for l in stderr.splitlines() if l.startswith("racetrap: stats:")]
    if len(lines) != 1:
        raise Fail(f"expected one stats line, got:\n{stderr}")
    return dict(kv.split("=") for kv in lines[0].split()[2:])


def case_silent_one_line(rt, preload, rel, d):
    """RACETRAP_MODE=watchpoints: the program runs untouched, stderr gets exactly the
    one line, nothing is watched."""
    native = run([rel, "race", "1.0"], d)
    traced = run([rel, "race", "1.0"], d, preload, SILENT_WATCHPOINTS)
    if traced.returncode != native.returncode or not same_output(traced.stdout, native.stdout):
        raise Fail(f"differs from native: {traced.returncode} {traced.stdout!r} vs {native.returncode} {native.stdout!r}")
    lines = traced.stderr.splitlines()
    if len(lines) != 1 or not lines[0].startswith(NOTICE_START):
        raise Fail(f"expected exactly the one notice line on stderr, got:\n{traced.stderr}")
    for words in ("PVM", "SEV-ES", "this run has no data-race detection", "lock-order"):
        if words not in lines[0]:
            raise Fail(f"the notice does not say '{words}': {lines[0]}")
    if reports(d):
        raise Fail(f"a report although nothing could be watched: {reports(d)}")


def case_silent_auto(rt, preload, rel, d):
    """RACETRAP_MODE=auto (the default): the one line says value-change sampling runs
    instead, and it finds the race; the program's output is its own."""
    native = run([rel, "race", "1.0"], d)
    traced = run([rel, "race", "1.0"], d, preload, dict(SILENT, RACETRAP_VERBOSITY="1"))
    if traced.returncode != native.returncode or not same_output(traced.stdout, native.stdout):
        raise Fail(f"differs from native: {traced.returncode} {traced.stdout!r} vs {native.returncode} {native.stdout!r}")
    found = notices(traced.stderr)
    if len(found) != 1 or "value-change sampling instead" not in found[0]:
        raise Fail(f"expected one notice naming the value-change mode:\n{traced.stderr}")
    if not any("mode value-change" in l for l in traced.stderr.splitlines()):
        raise Fail(f"verbosity 1 does not say the mode:\n{traced.stderr}")
    texts = [open(f, errors="replace").read() for f in reports(d)]
    if len(texts) != 1 or VALUE_CHANGE_TITLE not in texts[0]:
        raise Fail(f"expected one report with a value-change race, got {reports(d)}:\n{traced.stderr}")


def case_silent_stats(rt, preload, rel, d):
    """RACETRAP_STATS and verbosity 1 show the self-test's outcome; no thread armed anything."""
    p = run([rel, "race", "1.0"], d, preload, dict(SILENT_WATCHPOINTS, RACETRAP_STATS="1", RACETRAP_VERBOSITY="1"))
    stats = stats_line(p.stderr)
    if stats.get("self_test_traps") != "0" or stats.get("samples") != "0" or stats.get("arms") != "0":
        raise Fail(f"stats: {stats}")
    if not any("breakpoint self-test: no trap arrived" in l for l in p.stderr.splitlines()):
        raise Fail(f"verbosity 1 does not show the self-test's outcome:\n{p.stderr}")
    if len(notices(p.stderr)) != 1:
        raise Fail(f"expected the notice once:\n{p.stderr}")


def case_silent_fork(rt, preload, rel, d):
    """Once per process: a forked child keeps its parent's outcome and says nothing more."""
    p = run([rel, "fork-race"], d, preload, SILENT)
    if p.returncode != 0 or len(notices(p.stderr)) != 1:
        raise Fail(f"status {p.returncode}, expected one notice:\n{p.stderr}")


def case_silent_check(rt, preload, rel, d):
    """`racetrap check` tells the truth and exits 1."""
    p = run([rt, "check"], d, None, SILENT)
    if p.returncode != 1:
        raise Fail(f"racetrap check exited {p.returncode}:\n{p.stdout}{p.stderr}")
    if "breakpoints fire: no" not in p.stdout or "never fire" not in p.stdout \
            or "mode: value-change" not in p.stdout \
            or "hardware watchpoint mode cannot find data races here" not in p.stdout:
        raise Fail(f"racetrap check does not say that breakpoints do not fire:\n{p.stdout}")
    if "can find data races here" in p.stdout.replace("cannot find", ""):
        raise Fail(f"racetrap check claims it can find races:\n{p.stdout}")


def case_silent_run(rt, preload, rel, d):
    """`racetrap run --mode=watchpoints` prints the line once, first, and exits with
    the program's status."""
    native = run([rel, "race", "1.0"], d)
    p = run([rt, "run", "--mode=watchpoints", "--", rel, "race", "1.0"], d, None, SILENT)
    if p.returncode != native.returncode or not same_output(p.stdout, native.stdout):
        raise Fail(f"status {p.returncode} (native {native.returncode}), stdout {p.stdout!r}:\n{p.stderr}")
    lines = p.stderr.splitlines()
    if not lines or not lines[0].startswith(NOTICE_START) or len(notices(p.stderr)) != 1:
        raise Fail(f"expected the notice as the first and only such line:\n{p.stderr}")
    if "data race" in p.stderr:
        raise Fail(f"a race report without breakpoints:\n{p.stderr}")


def case_silent_run_auto(rt, preload, rel, d):
    """`racetrap run` (mode auto) prints the line first, once, and the value-change
    mode's report: exit 66."""
    p = run([rt, "run", "--", rel, "race", "1.0"], d, None, SILENT)
    lines = p.stderr.splitlines()
    if not lines or not lines[0].startswith(NOTICE_START) or len(notices(p.stderr)) != 1:
        raise Fail(f"expected the notice as the first and only such line:\n{p.stderr}")
    if p.returncode != 66 or VALUE_CHANGE_TITLE not in p.stderr:
        raise Fail(f"status {p.returncode}, expected 66 and a value-change race:\n{p.stderr}")


def case_fires_stats(rt, preload, rel, d):
    """Where breakpoints fire: the self-test saw its trap, the notice is absent, races are found."""
    p = run([rel, "race", "1.0"], d, preload, {"RACETRAP_STATS": "1", "RACETRAP_VERBOSITY": "1"})
    stats = stats_line(p.stderr)
    if stats.get("self_test_traps") != "1" or notices(p.stderr):
        raise Fail(f"stats {stats}:\n{p.stderr}")
    if not any("breakpoint self-test: the trap arrived" in l for l in p.stderr.splitlines()):
        raise Fail(f"verbosity 1 does not show the self-test's outcome:\n{p.stderr}")
    if int(stats.get("traps", "0")) == 0 or not reports(d):
        raise Fail(f"no trap or no report after the self-test passed: {stats}")


def case_fires_check(rt, preload, rel, d):
    p = run([rt, "check"], d)
    if p.returncode != 0 or "breakpoints fire: yes" not in p.stdout \
            or "racetrap can find data races here." not in p.stdout:
        raise Fail(f"racetrap check exited {p.returncode}:\n{p.stdout}{p.stderr}")


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    case = sys.argv[1]
    rt, preload, rel = (os.path.abspath(a) for a in sys.argv[2:])
    fn = globals().get("case_" + case.replace("-", "_"))
    if fn is None:
        print(f"unknown case {case}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix=f"rt-selftest-{case}-") as d:
        try:
            fn(rt, preload, rel, d)
        except Fail as e:
            print(f"FAIL {case}: {e}", file=sys.stderr)
            return 1
    print(f"ok {case}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
