#!/usr/bin/env python3
"""Symbolization of one program build (tests/report/programs/symbolize.c): the
report of each kind names file:line:column, and inlined calls.

usage: symbolize_cases.py MODE PRELOAD PROGRAM SOURCE

MODE  race        every data race's two stacks start at the `// RACE` line inside
                  the inlined function (frame marked inlined), then its `// CALL`
                  site in the caller, each with a column
      lock-order  the lock-order inversion's edges are acquired at the `// EDGE`
                  lines, with a column
      misuse      the unlock-of-unlocked-mutex report's stack is at the `// MISUSE`
                  line, with a column
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

KINDS = {"race": "data-race", "lock-order": "lock-order-inversion", "misuse": "unlock-of-unlocked-mutex"}


def marked(source, mark):
    with open(source, encoding="utf-8") as f:
        return {n for n, line in enumerate(f, 1) if re.search(r"//\s*" + mark + r"\s*$", line)}


def where(frame):
    return f"{frame.get('function')} {os.path.basename(frame.get('file', '?'))}:{frame.get('line')}:{frame.get('column')}"


def at(frame, name, lines):
    """True when `frame` is in SOURCE at one of `lines`, with a column."""
    return (os.path.basename(frame.get("file", "")) == name and frame.get("line") in lines
            and (frame.get("column") or 0) > 0)


def main():
    mode, preload, program, source = sys.argv[1:5]
    name = os.path.basename(source)
    workdir = tempfile.mkdtemp(prefix="racetrap-symbolize-")
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "DEBUGINFOD_URLS")}
    env.update({"LD_PRELOAD": os.path.abspath(preload), "RACETRAP_FORMAT": "json",
                "RACETRAP_LOG_PATH": os.path.join(workdir, "racetrap")})
    env.setdefault("RACETRAP_SAMPLE_US", "300")
    cmd = [os.path.abspath(program), mode, "1.0"]
    print(f"run: cd {workdir} && LD_PRELOAD={env['LD_PRELOAD']} RACETRAP_FORMAT=json {' '.join(cmd)}")
    proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=60)
    problems = []
    if proc.returncode != 0:
        problems.append(f"exit status {proc.returncode}")
    reports = glob.glob(os.path.join(workdir, "racetrap.*.json"))
    entries = json.load(open(reports[0]))["races"] if len(reports) == 1 else []
    if len(reports) != 1:
        problems.append(f"expected one JSON report, found {reports}")
    kinds = sorted({e["kind"] for e in entries})
    if kinds != [KINDS[mode]]:
        problems.append(f"report kinds {kinds}, expected [{KINDS[mode]}]")
    if mode == "race":
        race, call = marked(source, "RACE"), marked(source, "CALL")
        for i, e in enumerate(entries):
            for side in ("current", "previous"):
                stack = e[side]["stack"]
                shown = [where(f) for f in stack[:3]]
                if len(stack) < 2 or not at(stack[0], name, race) or not stack[0].get("inlined"):
                    problems.append(f"race #{i + 1} {side}: frame #0 is not the inlined // RACE line: {shown}")
                elif not at(stack[1], name, call) or stack[1].get("inlined"):
                    problems.append(f"race #{i + 1} {side}: frame #1 is not the // CALL site: {shown}")
    elif mode == "lock-order":
        edges, named = marked(source, "EDGE"), set()
        for edge in (entries[0]["cycle"] if entries else []):
            hits = [f["line"] for f in edge["acquire"]["stack"] if at(f, name, edges)]
            if not hits:
                problems.append(f"edge with no frame at an // EDGE line: {[where(f) for f in edge['acquire']['stack'][:3]]}")
            named.update(hits)
        if entries and named != edges:
            problems.append(f"edges named lines {sorted(named)}, expected {sorted(edges)}")
    else:
        misuse = marked(source, "MISUSE")
        stack = entries[0]["current"]["stack"] if entries else []
        if not stack or not at(stack[0], name, misuse):
            problems.append(f"misuse stack does not start at the // MISUSE line: {[where(f) for f in stack[:3]]}")
    if problems:
        print("FAILED:\n  " + "\n  ".join(problems))
        print(f"--- stderr\n{proc.stderr}")
        return 1
    print(f"ok ({mode}: {len(entries)} report(s) with file:line:column)")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
