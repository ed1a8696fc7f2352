#!/usr/bin/env python3
"""Run a latent ABBA-deadlock program many times, natively and under racetrap.

usage: run_abba.py [--runs N] [--native-runs N] [--timeout S] [--shape barrier|created|ordered]
                   [--lock mutex|rwlock|spin]
                   [--max-hangs N] [--max-excess-p P] PRELOAD PROGRAM SOURCE
       run_abba.py --real-deadlock RACETRAP PRELOAD PROGRAM SOURCE [mutex|rwlock|spin]

Under racetrap every run must finish within --timeout (a hang fails the test,
beyond --max-hangs), exit 0, and leave one JSON report whose only entry is a lock-order-inversion
with one edge per `// EDGE KIND` line of SOURCE (KIND: --lock), each edge's stack naming its line.
The native runs (alternated with racetrap's) are a measurement, printed beside racetrap's: a native hang is
reported but does not fail the test (the program's own deadlock, not racetrap's).
--shape: how the program starts its threads (abba.c: released together from a
barrier, as pthread_create starts them, or ordered: the second thread 50 us after
the first one holds its first lock). --lock: the kind of the two locks (abba.c's
second argument; write locks for rwlock).

--max-excess-p P: the program also hangs natively, so the test asks whether racetrap
makes it hang more often than the native runs measured beside it: the one-sided
Fisher exact test of "racetrap's hang rate is higher" must not reach significance
level P (it fails when racetrap's hangs are that unlikely under the native rate).
The racetrap hangs then count against --max-hangs only beyond the native ones'
(--max-hangs stays an absolute cap when P is not given).

--real-deadlock runs PROGRAM deadlock (each thread holds its first lock 50 ms, so
the program really deadlocks), kills it after 2 s, and renders the raw stream it
left with `RACETRAP report`: the inversion must be there, its edges named (over two
locks of the kind the last argument names, mutexes by default).
"""

import argparse
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile


def edge_lines(source, kind="mutex"):
    """The lines of SOURCE that end in `// EDGE KIND`."""
    with open(source, encoding="utf-8") as f:
        return {n for n, line in enumerate(f, 1) if re.search(r"//\s*EDGE\s+" + kind + r"\s*$", line)}


def run_once(cmd, env, workdir, timeout):
    """(hung, status, stdout, stderr)."""
    proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, errors="replace", start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        return False, proc.returncode, out, err
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return True, proc.returncode, out, err


def check_report(workdir, source, edges):
    """Problems with the run's report (empty list: the inversion, fully named)."""
    reports = glob.glob(os.path.join(workdir, "racetrap.*.json"))
    if len(reports) != 1:
        return [f"expected one JSON report, found {[os.path.basename(r) for r in reports]}"]
    entries = json.load(open(reports[0]))["races"]
    kinds = [e["kind"] for e in entries]
    if kinds != ["lock-order-inversion"]:
        return [f"report kinds {kinds}, expected ['lock-order-inversion']"]
    name = os.path.basename(source)
    named = set()
    for edge in entries[0]["cycle"]:
        frames = edge["acquire"]["stack"]
        named.update(f.get("line") for f in frames
                     if os.path.basename(f.get("file", "")) == name and f.get("line") in edges)
    if named != edges:
        return [f"edge stacks name lines {sorted(named)} of {name}, expected {sorted(edges)}"]
    return []


def real_deadlock(racetrap, preload, program, source, lock="mutex"):
    workdir = tempfile.mkdtemp(prefix="racetrap-abba-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RACETRAP_") and k != "LD_PRELOAD"}
    env.update({"LD_PRELOAD": os.path.abspath(preload), "RACETRAP_LOG_PATH": os.path.join(workdir, "racetrap")})
    hung, status, _, err = run_once([os.path.abspath(program), "deadlock", lock], env, workdir, 2.0)
    problems = [] if hung else [f"the program did not deadlock (exit status {status})"]
    raws = glob.glob(os.path.join(workdir, "racetrap.*.raw"))
    if len(raws) != 1:
        problems.append(f"expected one raw stream, found {raws}")
    else:
        env.pop("LD_PRELOAD")
        subprocess.run([os.path.abspath(racetrap), "report", "--format=json", "-o", os.path.join(workdir, "out"),
                        raws[0]], cwd=workdir, env=env, capture_output=True, text=True, timeout=60)
        json_reports = glob.glob(os.path.join(workdir, "out*.json"))
        if not json_reports:
            problems.append("`racetrap report` wrote no JSON report")
        else:
            shutil.move(json_reports[0], os.path.join(workdir, "racetrap.report.json"))
            problems += check_report(workdir, source, edge_lines(source, lock))
    if problems:
        print("FAILED:\n  " + "\n  ".join(problems) + f"\n--- stderr\n{err}")
        return 1
    print("ok: the real deadlock's inversion is in the raw stream")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


def excess_p_value(hangs, runs, native_hangs, native_runs):
    """One-sided Fisher exact test: the chance of `hangs` or more of all the hangs
    falling in racetrap's `runs`, were both rates the same (hypergeometric tail)."""
    from math import comb
    total, hung = runs + native_runs, hangs + native_hangs
    denominator = comb(total, runs)
    return sum(comb(hung, k) * comb(total - hung, runs - k) for k in range(hangs, min(hung, runs) + 1)) / denominator


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--real-deadlock":
        return real_deadlock(*sys.argv[2:7])
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--native-runs", type=int, default=50)
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--max-hangs", type=int, default=0,
                    help="racetrap runs that may hang (default 0); every run that finishes must still "
                         "exit 0 and report the inversion")
    ap.add_argument("--max-excess-p", type=float, default=None,
                    help="compare racetrap's hang rate with the native one (see above) at this significance level")
    ap.add_argument("--shape", choices=["barrier", "created", "ordered"], default="barrier")
    ap.add_argument("--lock", choices=["mutex", "rwlock", "spin"], default="mutex")
    ap.add_argument("preload")
    ap.add_argument("program")
    ap.add_argument("source")
    args = ap.parse_args()
    program = [os.path.abspath(args.program)] + ([args.shape] if args.shape != "barrier" or args.lock != "mutex" else [])
    program += [args.lock] if args.lock != "mutex" else []
    edges = edge_lines(args.source, args.lock)
    compare = args.max_excess_p is not None

    native_env = {k: v for k, v in os.environ.items() if not k.startswith("RACETRAP_") and k != "LD_PRELOAD"}
    native_hangs = 0

    def native_run():
        nonlocal native_hangs
        workdir = tempfile.mkdtemp(prefix="racetrap-abba-")
        hung, _, _, _ = run_once(program, native_env, workdir, args.timeout)
        native_hangs += hung
        shutil.rmtree(workdir, ignore_errors=True)

    env = dict(native_env)
    env["LD_PRELOAD"] = os.path.abspath(args.preload)
    env["RACETRAP_FORMAT"] = "json"
    hangs, reported, failures = 0, 0, []
    # Native and racetrap runs alternate, so that both rates are measured under the
    # same load on the machine.
    for i in range(max(args.runs, args.native_runs)):
        if i < args.native_runs:
            native_run()
        if i >= args.runs:
            continue
        workdir = tempfile.mkdtemp(prefix="racetrap-abba-")
        env["RACETRAP_LOG_PATH"] = os.path.join(workdir, "racetrap")
        hung, status, out, err = run_once(program, env, workdir, args.timeout)
        problems = []
        if hung:
            hangs += 1
            if hangs > args.max_hangs and not compare:
                problems.append(f"hung (killed after {args.timeout:.0f} s)")
        else:
            if status != 0 or "counter=2" not in out:
                problems.append(f"exit status {status}, stdout {out.strip()!r}")
            problems += check_report(workdir, args.source, edges)
            reported += not problems
        if problems:
            failures.append(f"run {i + 1}: " + "; ".join(problems) + (f"\n    stderr: {err.strip()[:500]}" if err else ""))
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"shape: {args.shape}, locks: {args.lock}")
    print(f"native:   {native_hangs}/{args.native_runs} runs hung")
    if compare:
        p = excess_p_value(hangs, args.runs, native_hangs, args.native_runs)
        print(f"racetrap: {hangs}/{args.runs} runs hung; one-sided Fisher p = {p:.4f} that racetrap hangs no more "
              f"often than native (fails below {args.max_excess_p}; at most {args.max_hangs} hangs beyond the "
              f"native ones), {reported}/{args.runs - hangs} finished runs reported the inversion")
        if p < args.max_excess_p:
            failures.append(f"racetrap hung {hangs}/{args.runs}, native {native_hangs}/{args.native_runs}: "
                            f"more often than chance allows (p = {p:.4f} < {args.max_excess_p})")
        if hangs - native_hangs > args.max_hangs:
            failures.append(f"racetrap hung {hangs - native_hangs} more times than native (at most {args.max_hangs})")
    else:
        print(f"racetrap: {hangs}/{args.runs} runs hung (at most {args.max_hangs} allowed), "
              f"{reported}/{args.runs - hangs} finished runs reported the inversion")
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures[:20]))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
