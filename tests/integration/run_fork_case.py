#!/usr/bin/env python3
"""A forked child's races are its own: run racy_fork_child under `racetrap run`.

usage: run_fork_case.py [--timeout S] RACETRAP PROGRAM SOURCE ENDING [SECONDS]

The parent's threads race, are joined, the parent forks, the child's threads race
on the same line and the child ends with ENDING (exit, _exit or exec; thread: the
fork is made by a second thread, which races in the child with one of its own). Both the
parent's and the child's text report (RACETRAP_LOG_PATH.<pid>; `racetrap run`
renders the raw stream a child that called _exit left) must hold a data race
whose two stacks name a `// RACE` line of SOURCE. `racetrap run` exits 66.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

FRAME_RE = re.compile(r"^\s*#\d+\s+\S+\s+(\S+?):(\d+)(?::\d+)?\s+\(")


def race_lines(source):
    with open(source, encoding="utf-8") as f:
        return {n for n, line in enumerate(f, 1) if re.search(r"//\s*RACE\s*$", line)}


def check_report(path, name, lines):
    """Problems with one process's text report (empty: a race naming a RACE line twice)."""
    if not os.path.exists(path):
        return [f"no report {os.path.basename(path)}"]
    text = open(path, encoding="utf-8", errors="replace").read()
    if "WARNING: racetrap: data race" not in text:
        return [f"{os.path.basename(path)} holds no data race"]
    hits = 0
    for line in text.splitlines():
        m = FRAME_RE.match(line)
        if m and os.path.basename(m.group(1)) == name and int(m.group(2)) in lines:
            hits += 1
    if hits < 2:
        return [f"{os.path.basename(path)}: {hits} frames at a // RACE line of {name}, expected both accesses"]
    return []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("racetrap")
    ap.add_argument("program")
    ap.add_argument("source")
    ap.add_argument("ending", choices=["exit", "_exit", "exec", "thread"])
    ap.add_argument("seconds", nargs="?", default="0.5")
    args = ap.parse_args()

    workdir = tempfile.mkdtemp(prefix="racetrap-fork-")
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    env["RACETRAP_LOG_PATH"] = os.path.join(workdir, "racetrap")
    cmd = [os.path.abspath(args.racetrap), "run", "--", os.path.abspath(args.program), args.seconds, args.ending]
    print(f"run: cd {workdir} && RACETRAP_LOG_PATH={env['RACETRAP_LOG_PATH']} {' '.join(cmd)}")
    proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            errors="replace", start_new_session=True)
    problems = []
    try:
        out, err = proc.communicate(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        problems.append("timed out (hung?)")

    child = re.search(r"^child (\d+)$", out, re.M)
    if proc.returncode != 66:
        problems.append(f"exit status {proc.returncode}, expected 66 (races reported)")
    if child is None:
        problems.append("the program printed no 'child <pid>'")
    else:
        name, lines = os.path.basename(args.source), race_lines(args.source)
        reports = sorted(p for p in os.listdir(workdir) if re.fullmatch(r"racetrap\.\d+", p))
        child_report = os.path.join(workdir, f"racetrap.{child.group(1)}")
        problems += check_report(child_report, name, lines)
        others = [os.path.join(workdir, p) for p in reports if p != os.path.basename(child_report)]
        if len(others) != 1:
            problems.append(f"expected one parent report besides the child's, found {reports}")
        else:
            problems += check_report(others[0], name, lines)
    if problems:
        print("FAILED:\n  " + "\n  ".join(problems))
        print(f"--- stdout\n{out}\n--- stderr\n{err}\n--- files: {sorted(os.listdir(workdir))}")
        return 1
    print(f"ok: parent and child ({args.ending}) reported the race")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
