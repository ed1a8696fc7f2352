#!/usr/bin/env python3
"""Run one lock-order / pthread-misuse program under racetrap and check the outcome.

usage:
  run_deadlock_case.py [--timeout S] [--racetrap CMD] [--suppress-with CMD] EXPECT PRELOAD PROGRAM SOURCE
                       [NAME=VALUE ...] [-- PROGRAM_ARGS ...]

EXPECT    a report kind (lock-order-inversion, self-deadlock, unlock-of-unlocked-mutex,
          ...): exactly one report file, exactly one WARNING in it, of that kind;
          for lock-order-inversion every "Mutex ... acquired here" stack has a frame
          at a `// EDGE` line of SOURCE (function and file:line) and every `// EDGE`
          line of SOURCE executed is named (as many edges as EDGE lines); for the
          others the stack has a frame at a `// MISUSE` line. The JSON report has
          that `kind`, the SARIF one that ruleId (racetrap/KIND). Exit status 0.
          A lock-order case must give EXPECT_EDGES=N: N stacks, N distinct EDGE lines.
          EXPECT_RESULT=NAME (misuse): the report says "the call returned NAME"
          and the JSON report's result_name is NAME.
          `none`: no report file, no WARNING on stderr, exit status 0.
With --racetrap CMD the program runs as `CMD run -- PROGRAM ARGS`: then a report
means exit status 66 (and the report on stderr), none means the program's status.
With --suppress-with CMD, `CMD suppress` on the text and on the JSON report must print
the same rules, each `deadlock:` (lock-order inversion) or `mutex:` (misuse).
The program must finish within --timeout (a hang is a failure).
"""

import argparse
import glob
import json
import os
import re
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from run_case import split_overrides, watched_command  # noqa: E402  (shared by both runners)

FRAME_RE = re.compile(r"^\s*#(\d+)\s+(.*?)\s+(\S+?):(\d+)(?::\d+)?\s+\(.*\)\s*$")
TITLES = {"lock-order-inversion": "lock-order-inversion (potential deadlock)"}


def marked_lines(source, mark):
    pattern = re.compile(r"//\s*" + mark + r"\b")
    with open(source, encoding="utf-8") as f:
        return {n for n, line in enumerate(f, 1) if pattern.search(line)}


def stacks_after(text, header_re):
    """Stacks (lists of (function, file, line)) that follow lines matching header_re."""
    stacks, current = [], None
    for line in text.splitlines():
        if re.search(header_re, line):
            current = []
            stacks.append(current)
            continue
        m = FRAME_RE.match(line)
        if m and current is not None:
            current.append((m.group(2), os.path.basename(m.group(3)), int(m.group(4))))
        elif current is not None:
            current = None
    return stacks


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--racetrap")
    ap.add_argument("--suppress-with", help="racetrap command: check `racetrap suppress` on the reports")
    ap.add_argument("expect")
    ap.add_argument("preload")
    ap.add_argument("program")
    ap.add_argument("source")
    ap.add_argument("rest", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    overrides, prog_args = split_overrides(args.rest)

    workdir = tempfile.mkdtemp(prefix="racetrap-deadlock-")
    env, cmd = watched_command(args, prog_args, workdir, {"RACETRAP_FORMAT": "text,json,sarif"}, overrides)
    proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, errors="replace", start_new_session=True)
    problems = []
    try:
        stdout, stderr = proc.communicate(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        problems.append(f"timed out after {args.timeout:.0f} s (hung?)")
    status = proc.returncode

    texts = [p for p in glob.glob(os.path.join(workdir, "racetrap.*"))
             if not p.endswith((".json", ".sarif", ".raw"))]
    report = "".join(open(p, encoding="utf-8", errors="replace").read() for p in texts)
    if args.expect == "none":
        if texts:
            problems.append(f"unexpected report file(s): {texts}")
        if "WARNING: racetrap" in stderr:
            problems.append("unexpected WARNING on stderr")
        if status != 0:
            problems.append(f"exit status {status}, expected 0")
    else:
        kind = args.expect
        expected_status = 66 if args.racetrap else 0
        if status != expected_status:
            problems.append(f"exit status {status}, expected {expected_status}")
        if len(texts) != 1:
            problems.append(f"expected exactly one text report, found {texts}")
        warnings = re.findall(r"WARNING: racetrap: (.*) \(pid=\d+\)", report)
        title = TITLES.get(kind, kind)
        if warnings != [title]:
            problems.append(f"expected exactly one 'WARNING: racetrap: {title}', found {warnings}")
        if f"SUMMARY: racetrap: {title} " not in report:
            problems.append("no SUMMARY line of that kind")
        name = os.path.basename(args.source)
        if kind == "lock-order-inversion":
            edges = marked_lines(args.source, "EDGE")
            stacks = stacks_after(report, r"^\s*Mutex M\d+ acquired here while holding mutex M\d+ in ")
            named = set()
            for i, st in enumerate(stacks, 1):
                hits = [(fn, ln) for fn, f, ln in st if f == name and ln in edges and fn]
                if not hits:
                    problems.append(f"edge #{i}: no frame at a // EDGE line of {name} ({st[:3]})")
                named.update(ln for _, ln in hits)
            if not stacks:
                problems.append("no 'Mutex ... acquired here while holding mutex ...' stacks")
            if "EXPECT_EDGES" not in overrides:
                problems.append("the test gives no EXPECT_EDGES=N (the cycle's length must be stated)")
            want = int(overrides.get("EXPECT_EDGES", "0") or 0)
            if len(stacks) != want:
                problems.append(f"{len(stacks)} edges in the cycle, expected {want}")
            # Each edge is taken at its own // EDGE line: as many distinct lines as edges.
            if len(named) != want:
                problems.append(f"the edges name {len(named)} distinct // EDGE lines ({sorted(named)}), "
                                f"expected {want}")
        else:
            lines = marked_lines(args.source, "MISUSE")
            stacks = stacks_after(report, r"^\s+\S.*:\s*$")
            first = stacks[0] if stacks else []
            if not any(f == name and ln in lines and fn for fn, f, ln in first):
                problems.append(f"the misuse stack has no frame at a // MISUSE line of {name}: {first[:3]}")
        want_result = overrides.get("EXPECT_RESULT")
        if want_result and f"the call returned {want_result}" not in report:
            problems.append(f"the report does not say 'the call returned {want_result}'")
        if args.racetrap and f"WARNING: racetrap: {title}" not in stderr:
            problems.append("`racetrap run` did not print the report on stderr")
        jsons = glob.glob(os.path.join(workdir, "racetrap.*.json"))
        sarifs = glob.glob(os.path.join(workdir, "racetrap.*.sarif"))
        if args.suppress_with and len(texts) == 1 and len(jsons) == 1:
            # `racetrap suppress` suggests the same rules from the text report as
            # from the JSON one, of the type that silences this kind of report.
            rule_type = "deadlock:" if kind == "lock-order-inversion" else "mutex:"
            rules = {}
            for path in (texts[0], jsons[0]):
                sp = subprocess.run([args.suppress_with, "suppress", path], capture_output=True, text=True,
                                    timeout=60)
                rules[path] = [l for l in sp.stdout.splitlines() if l and not l.startswith("#")]
                if sp.returncode != 0 or not rules[path] or not all(r.startswith(rule_type) for r in rules[path]):
                    problems.append(f"racetrap suppress {os.path.basename(path)}: status {sp.returncode}, "
                                    f"rules {rules[path]}, expected {rule_type}... lines; stderr {sp.stderr!r}")
            if rules[texts[0]] != rules[jsons[0]]:
                problems.append(f"racetrap suppress: text report gives {rules[texts[0]]}, "
                                f"JSON gives {rules[jsons[0]]}")
        if len(jsons) != 1 or len(sarifs) != 1:
            problems.append(f"expected one JSON and one SARIF report, found {jsons} {sarifs}")
        else:
            j = json.load(open(jsons[0]))
            kinds = [r["kind"] for r in j["races"]]
            if kinds != [kind]:
                problems.append(f"JSON kinds {kinds}, expected [{kind}]")
            results = [r.get("result_name") for r in j["races"]]
            if want_result and results != [want_result]:
                problems.append(f"JSON result_name {results}, expected [{want_result}]")
            s = json.load(open(sarifs[0]))
            rules = [r["ruleId"] for r in s["runs"][0]["results"]]
            if rules != ["racetrap/" + kind]:
                problems.append(f"SARIF ruleIds {rules}, expected [racetrap/{kind}]")

    if problems:
        print("FAILED:\n  " + "\n  ".join(problems))
        print(f"--- exit status {status}\n--- stdout\n{stdout}\n--- stderr\n{stderr}\n--- report\n{report}")
        return 1
    print(f"ok ({args.expect})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
