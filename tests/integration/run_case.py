#!/usr/bin/env python3
"""Run one integration program under racetrap and check the outcome.

usage:
  run_case.py [--timeout S] [--racetrap CMD] MODE PRELOAD PROGRAM SOURCE
              [NAME=VALUE ...] [-- PROGRAM_ARGS ...]

MODE      racy      exactly one report file, `WARNING: racetrap: data race`, and
                    every race in it names SOURCE with a `// RACE` line number in
                    both the current and the "Previous" access stack (function and
                    file:line); the summary line on stderr; exit status 0.
          racefree  no report file, no "data race" on stderr, exit status 0;
                    skipped (exit 77) when the preload's breakpoint self-test saw
                    no trap (the stats line says self_test_traps=0): on a host
                    whose debug registers never fire the hardware mode these
                    cases test does not run (scripts/bootstrap pins
                    RACETRAP_MODE=watchpoints for them there), and a race-free
                    result would prove nothing (--value-change cases run
                    everywhere).
PRELOAD   path of libracetrap.so (run as LD_PRELOAD=PRELOAD PROGRAM ...).
PROGRAM   the program to run; SOURCE its source file (for the `// RACE` lines).
NAME=VALUE environment overrides for the program (e.g. RACETRAP_SAMPLE_US=500).

--expect-locks A,B  (racy) every race shows, for each of its two accesses, the
                    locks its thread held ("Locks held:"), naming exactly one of
                    the global mutexes A and B, a different one on each side.
--min-seen N        (racy) some race in the report was seen at least N times
                    ("Seen N times": repeats of a recorded race are counted).
--expect-stderr T   stderr contains T (e.g. the verbosity-1 start-up line's words).
--not-in-tcg WHY    skipped (exit 77) inside tests/guest/tcg_guest, whose emulated
                    CPU cannot show what the case tests (WHY: what).
--min-stat NAME=N   the stats line counts NAME at least N (repeatable; race-free:
                    a run short of it is retried as an unwatched one).
--value-change      run with RACETRAP_MODE=value-change (no debug-register trap
                    needed): stderr names the mode; (racy) every race is titled
                    `data race (value changed)` and names a `// RACE` line in its
                    "Previous" (sampled) stack, and in its current (writer) stack
                    too unless the report says the writer was not identified.

With --racetrap CMD the program is run as `CMD run -- PROGRAM ARGS` instead (the
`racetrap` command finds the preload library itself); then racy means exit status
66 and the report printed on stderr, racefree means exit status 0 and no report.

The program runs in a fresh temporary directory with RACETRAP_LOG_PATH pointing
into it and RACETRAP_VERBOSITY=1 (the stats line), unless overridden. On failure
everything needed to understand it is printed: report, stdout, stderr, stats.
"""

import argparse
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

WARNING = "WARNING: racetrap: data race"
SUMMARY_RE = re.compile(r"^racetrap: (\d+) (?:distinct )?data races?\b.*report: (\S+)\s*$", re.M)
FRAME_RE = re.compile(r"^\s*#(\d+)\s+(.*?)\s+(\S+?):(\d+)(?::\d+)?\s+\(.*\)\s*$")
RACE_MARK_RE = re.compile(r"//\s*RACE\b")


def race_lines(source):
    with open(source, encoding="utf-8") as f:
        return {n for n, line in enumerate(f, 1) if RACE_MARK_RE.search(line)}


def split_races(report):
    """Split a report into per-race blocks (each starting at the WARNING line)."""
    starts = [m.start() for m in re.finditer(re.escape(WARNING), report)]
    return [report[s:e] for s, e in zip(starts, starts[1:] + [len(report)])]


def access_header(stripped):
    """0 for the current access's header line, 1 for the previous one's, else None."""
    if re.match(r"^(Read|Write|Atomic read|Atomic write)\b.* by (thread|main thread)", stripped):
        return 0
    if stripped.startswith("Previous "):
        return 1
    return None


def access_lines(block):
    """(side, line) for each line of a race block after an access header: side 0
    under the current access's header, 1 under the previous one's. The section ends
    at the memory location line, after which no access is described."""
    side = None
    for line in block.splitlines():
        stripped = line.strip()
        header = access_header(stripped)
        if header is not None:
            side = header
        elif stripped.startswith("Location is") or stripped.startswith("Thread "):
            return
        elif side is not None:
            yield side, line


def stacks_of(block):
    """Return (current_frames, previous_frames): lists of (function, file, line).
    A stack is the frame lines right under its header; any other line ends it."""
    frames, ended = ([], []), [False, False]
    for side, line in access_lines(block):
        m = FRAME_RE.match(line)
        if m and not ended[side]:
            frames[side].append((m.group(2), m.group(3), int(m.group(4))))
        elif not m and frames[side]:
            ended[side] = True
    return frames


def stack_hits(frames, source_name, lines):
    return [(fn, path, ln) for fn, path, ln in frames
            if os.path.basename(path) == source_name and ln in lines and fn and fn != "??"]


WRITER_UNKNOWN = "<not identified"


def check_report_text(report, source, problems, value_change=False):
    """Racy-program checks on the report text; append problems found."""
    lines = race_lines(source)
    if not lines:
        problems.append(f"{source} has no `// RACE` lines")
        return
    name = os.path.basename(source)
    blocks = split_races(report)
    if not blocks:
        problems.append(f"report does not contain '{WARNING}'")
        return
    good = 0
    for i, block in enumerate(blocks, 1):
        current, previous = stacks_of(block)
        cur_hits = stack_hits(current, name, lines)
        prev_hits = stack_hits(previous, name, lines)
        writer_unknown = value_change and WRITER_UNKNOWN in block
        what = []
        if value_change and "WARNING: racetrap: data race (value changed)" not in block:
            what.append("not titled 'data race (value changed)'")
        elif (cur_hits or writer_unknown) and prev_hits:
            good += 1
            continue
        if writer_unknown:
            current, cur_hits = [("writer not identified", "", 0)], True
        if not current:
            what.append("no current-access stack found")
        elif not cur_hits:
            what.append("current-access stack has no frame at a // RACE line")
        if not previous:
            what.append("no 'Previous' access stack found")
        elif not prev_hits:
            what.append("'Previous' access stack has no frame at a // RACE line")
        problems.append(f"race #{i} of {len(blocks)} is not the expected one "
                        f"({'; '.join(what)}; expected {name}:{sorted(lines)})")
    if good == 0:
        problems.append("no race in the report matches the expected // RACE lines")


HELD_RE = re.compile(r"^\s*(?:Locks held: )?M\d+ \((?:mutex|rwlock) 0x[0-9a-f]+(?: \S+-locked)?(?: '([^']*)')?")


def held_locks_of(block):
    """Return (current, previous, shown): the lock names each access's
    "Locks held:" lines give ("?" for a lock without a name) and how many
    accesses had such lines at all."""
    locks, shown = ([], []), 0
    for side, line in access_lines(block):
        stripped = line.strip()
        if stripped.startswith("Locks held:"):
            shown += 1
        m = HELD_RE.match(line)
        if m and (stripped.startswith("Locks held:") or line.startswith(" " * 16)):
            locks[side].append(m.group(1) or "?")
    return locks[0], locks[1], shown


def check_locks(report, expected, problems):
    """--expect-locks: each access of each race names one of `expected`, a
    different one on each side."""
    for i, block in enumerate(split_races(report), 1):
        current, previous, shown = held_locks_of(block)
        if shown != 2:
            problems.append(f"race #{i}: {shown} 'Locks held:' lines, expected one per access")
            continue
        if len(current) != 1 or len(previous) != 1 or current[0] not in expected or previous[0] not in expected:
            problems.append(f"race #{i}: locks held {current} (current) and {previous} (previous), "
                            f"expected one of {sorted(expected)} on each side")
        elif current[0] == previous[0]:
            problems.append(f"race #{i}: both accesses held '{current[0]}', expected different locks")


def check_seen(report, minimum, problems):
    """--min-seen: the largest "Seen N times" of the report is at least `minimum`."""
    counts = [int(n) for n in re.findall(r"^\s*Seen (\d+) times", report, re.M)] or [1]
    if max(counts) < minimum:
        problems.append(f"the most often seen race was seen {max(counts)} time(s), expected at least {minimum}")


def stats_lines(stderr):
    return "\n".join(l for l in stderr.splitlines() if l.startswith("racetrap: stats"))


def stats_counts(stderr):
    """{name: value} of the last 'racetrap: stats:' line, or {}."""
    lines = [l for l in stderr.splitlines() if l.startswith("racetrap: stats:")]
    if not lines:
        return {}
    return {k: int(v) for k, v in (w.split("=", 1) for w in lines[-1].split()[2:] if "=" in w) if v.isdigit()}


def split_overrides(rest):
    """Splits `NAME=VALUE ... [--] PROGRAM-ARGS...` into ({NAME: VALUE}, [args])."""
    overrides, rest = {}, list(rest)
    while rest:
        item = rest.pop(0)
        if item == "--":
            return overrides, rest
        if "=" not in item:  # argparse may have eaten the "--"
            return overrides, [item] + rest
        k, v = item.split("=", 1)
        overrides[k] = v
    return overrides, []


def watched_command(args, prog_args, workdir, settings, overrides):
    """(env, cmd) that run args.program under the preload (args.preload), or under
    `racetrap run` when args.racetrap is given, with its reports in WORKDIR/racetrap.*,
    `settings` and then the NAME=VALUE overrides in the environment. Prints the
    command, to rerun it by hand."""
    program = os.path.abspath(args.program)
    env = dict(os.environ)
    env["RACETRAP_LOG_PATH"] = os.path.join(workdir, "racetrap")
    env.update(settings)
    if args.racetrap:
        env.pop("LD_PRELOAD", None)
        cmd = [os.path.abspath(args.racetrap), "run", "--", program] + prog_args
    else:
        env["LD_PRELOAD"] = os.path.abspath(args.preload)
        cmd = [program] + prog_args
    env.update(overrides)
    shown = " ".join(f"{k}={env[k]}" for k in sorted(env) if k.startswith("RACETRAP_") or k == "LD_PRELOAD")
    print(f"run: cd {workdir} && {shown} {' '.join(cmd)}")
    return env, cmd


def min_stats(wants):
    """--min-stat's NAME=N arguments as (name, N) pairs."""
    pairs = []
    for want in wants:
        name, least = want.split("=", 1)
        pairs.append((name, int(least)))
    return pairs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--racetrap", help="run through `RACETRAP run --` instead of LD_PRELOAD")
    ap.add_argument("--expect-locks", help="racy: A,B: each access held one of these, different ones")
    ap.add_argument("--min-seen", type=int, default=0, help="racy: some race was seen at least N times")
    ap.add_argument("--expect-arms", action="store_true",
                    help="racefree: other threads also armed watchpoints on the samples (arms > 0); not "
                         "for handoffs and queues, where every sample is already ordered before the other "
                         "threads' next access and is never armed")
    ap.add_argument("--samples-only", action="store_true",
                    help="racefree: the program keeps its accesses unwatched on purpose (benign-race or "
                         "ignore annotations): require samples only, not published watches")
    ap.add_argument("--value-change", action="store_true", help="force RACETRAP_MODE=value-change")
    ap.add_argument("--expect-stderr", help="stderr contains this text (e.g. the verbosity-1 start-up line's)")
    ap.add_argument("--min-stat", action="append", default=[],
                    help="NAME=N: the stats line counts NAME at least N (repeatable)")
    ap.add_argument("--not-in-tcg", metavar="WHY",
                    help="skipped (exit 77) inside tests/guest/tcg_guest (RACETRAP_TEST_TCG_GUEST=1), whose "
                         "emulated CPU cannot show what the case tests; WHY says what")
    ap.add_argument("mode", choices=["racy", "racefree"])
    ap.add_argument("preload")
    ap.add_argument("program")
    ap.add_argument("source")
    ap.add_argument("rest", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    if args.not_in_tcg and os.environ.get("RACETRAP_TEST_TCG_GUEST") == "1":
        print(f"skipped: in the TCG guest {args.not_in_tcg}")
        return 77

    overrides, prog_args = split_overrides(args.rest)

    workdir = tempfile.mkdtemp(prefix="racetrap-integ-")
    settings = {"RACETRAP_VERBOSITY": "1"}
    if args.value_change:
        settings["RACETRAP_MODE"] = "value-change"
    env, cmd = watched_command(args, prog_args, workdir, settings, overrides)

    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, errors="replace",
                            start_new_session=True)
    timed_out = False
    try:
        stdout, stderr = proc.communicate(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
    elapsed = time.monotonic() - started
    status = proc.returncode

    reports = sorted(glob.glob(os.path.join(workdir, "racetrap.*")))
    report_text = ""
    for r in reports:
        with open(r, encoding="utf-8", errors="replace") as f:
            report_text += f.read()

    problems = []
    if timed_out:
        problems.append(f"timed out after {args.timeout:.0f} s")
    stderr_races = re.findall(r"data race", stderr)

    if args.racetrap:
        expected_status = 66 if args.mode == "racy" else 0
        if status != expected_status:
            problems.append(f"`racetrap run` exit status {status}, expected {expected_status}")
        if args.mode == "racy":
            if WARNING not in stderr:
                problems.append(f"stderr does not contain the report ('{WARNING}')")
            else:
                check_report_text(stderr, args.source, problems, args.value_change)
        elif stderr_races or reports:
            problems.append("race-free program: 'data race' on stderr or a report file left")
    elif args.mode == "racy":
        if status != 0:
            problems.append(f"program exit status {status}, expected 0")
        if len(reports) != 1:
            problems.append(f"expected exactly one report file, found {len(reports)}: {reports}")
        if reports:
            check_report_text(report_text, args.source, problems, args.value_change)
            m = SUMMARY_RE.search(stderr)
            if not m:
                problems.append("stderr has no summary line 'racetrap: N data races, report: PATH'")
            elif os.path.realpath(m.group(2)) not in [os.path.realpath(r) for r in reports]:
                problems.append(f"summary line names {m.group(2)}, not the report file")
    else:
        if status != 0:
            problems.append(f"program exit status {status}, expected 0")
        if reports:
            problems.append(f"race-free program produced {len(reports)} report file(s) "
                            "(FALSE REPORT)")
        if stderr_races:
            problems.append("race-free program: 'data race' appears on stderr (FALSE REPORT)")

    # Whether the mode the case tests ran: the hardware mode needs a trap at the
    # breakpoint self-test; a race-free case where it did not run is skipped below.
    hardware_ran = args.value_change or args.mode == "racy" or stats_counts(stderr).get("self_test_traps", 0) == 1
    if args.mode == "racefree":
        # "No report" means something only when racetrap was there to look: the
        # preload loaded, sampled the threads and published watches (and, with
        # --expect-arms, other threads armed them).
        counts = stats_counts(stderr)
        if not counts:
            problems.append("no 'racetrap: stats:' line on stderr: the preload did not load or did not finish")
        elif not hardware_ran:
            pass  # the hardware mode did not run here (the self-test saw no trap): skipped below
        else:
            # value-change mode publishes no watches and arms nothing: a sample that
            # looked stalls instead.
            looked = "stalls" if args.value_change else "watches_published"
            needed = [("samples", 1)] if args.samples_only else [("samples", 1), (looked, 1)]
            if args.expect_arms and not args.value_change:
                needed.append(("arms", 1))
            needed += min_stats(args.min_stat)
            for name, least in needed:
                if counts.get(name, 0) < least:
                    problems.append(f"{name}={counts.get(name, 0)} (at least {least} wanted): racetrap did not "
                                    "watch this run, so its silence proves nothing")
        # A run starved of CPU by a loaded machine (its time is capped in wall
        # time) may take no sample: inconclusive, not a pass. Run it again, at
        # most three runs in all; the last one must be watched and report-free.
        unwatched = [p for p in problems if "did not watch this run" in p]
        attempt = int(os.environ.get("RT_RUN_CASE_ATTEMPT", "1"))
        if unwatched and len(unwatched) == len(problems) and attempt < 3:
            print(f"attempt {attempt}: {unwatched[0]}; running it again")
            shutil.rmtree(workdir, ignore_errors=True)
            sys.stdout.flush()
            os.execve(sys.executable, [sys.executable] + sys.argv,
                      dict(os.environ, RT_RUN_CASE_ATTEMPT=str(attempt + 1)))
    if args.value_change and "mode value-change" not in stderr:
        problems.append("stderr does not say 'mode value-change' (the verbosity-1 start-up line)")
    # The start-up line a race-free case expects is the hardware mode's: where that
    # mode did not run, the case is skipped below instead.
    if args.expect_stderr and args.expect_stderr not in stderr and hardware_ran:
        problems.append(f"stderr does not say {args.expect_stderr!r}")
    if args.mode == "racy":
        for name, least in min_stats(args.min_stat):
            got = stats_counts(stderr).get(name, 0)
            if got < least:
                problems.append(f"the stats line counts {name}={got}, expected at least {least}")

    if args.mode == "racy":
        shown = stderr if args.racetrap else report_text
        if args.expect_locks:
            check_locks(shown, set(args.expect_locks.split(",")), problems)
        if args.min_seen:
            check_seen(shown, args.min_seen, problems)

    print(f"mode={args.mode} status={status} elapsed={elapsed:.2f}s reports={len(reports)}")
    if args.value_change:
        shown = stderr if args.racetrap else report_text
        blocks = split_races(shown)
        known = sum(1 for b in blocks if WRITER_UNKNOWN not in b)
        print(f"value-change races={len(blocks)} writer_known={known}")
    stats = stats_lines(stderr)
    if stats:
        print(stats)
    if args.mode == "racefree" and not hardware_ran and not problems:
        print(stderr)
        print("skipped: racetrap's hardware mode did not run here (its breakpoint self-test saw no trap, or "
              "perf is unusable: no 'self_test_traps=1' in the stats line), so a race-free result proves nothing")
        shutil.rmtree(workdir, ignore_errors=True)
        return 77
    if problems:
        print("FAIL:")
        for p in problems:
            print(f"  - {p}")
        print("---- report " + "-" * 60)
        print(report_text if report_text else "(no report file)")
        print("---- stderr " + "-" * 60)
        print(stderr)
        print("---- stdout " + "-" * 60)
        print(stdout)
        print("-" * 72)
        print(f"(kept {workdir})")
        return 1
    print("PASS")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
