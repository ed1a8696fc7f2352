#!/usr/bin/env python3
"""End-to-end tests of racetrap's reports on a real racy program.

usage: report_cases.py CASE RACETRAP PRELOAD PROGRAM SCHEMA

CASE      kill      the program is killed with SIGKILL mid-run; `racetrap report` on
                    the raw stream it left shows the race found before the kill.
          merge     three runs, RACETRAP_FORMAT=json; `racetrap report` merges them:
                    one entry per fingerprint, counts and runs summed over the inputs.
          sarif     two runs with RACETRAP_FORMAT=sarif and RACETRAP_SOURCE_ROOT: each
                    SARIF validates against the official 2.1.0 schema, has both stacks,
                    repository-relative paths; the same race (rule and both stacks)
                    has the same fingerprint in both runs, different races different ones.
          suppress  a ThreadSanitizer suppressions file silences the race (no report,
                    exit 0), PRINT_SUPPRESSIONS lists it; `racetrap suppress` writes a
                    file that does the same.
          leftover  `racetrap run` on a shell whose racy child is SIGKILLed renders the
                    child's leftover raw stream itself.
PROGRAM is a racy program taking its run time in seconds (examples/racy_counter).
"""

import glob
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

SECONDS = "1.5"
ENV = {"RACETRAP_SAMPLE_US": "300"}


def fail(message, *details):
    print("FAIL: " + message)
    for d in details:
        print(d)
    sys.exit(1)


def run(cmd, cwd, env=None, check_status=None):
    full_env = dict(os.environ, **ENV, **(env or {}))
    p = subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True, errors="replace", timeout=60)
    if check_status is not None and p.returncode != check_status:
        fail(f"{' '.join(cmd)} exited {p.returncode}, expected {check_status}", p.stdout, p.stderr)
    return p


def case_kill(racetrap, preload, program, schema, tmp):
    env = dict(os.environ, **ENV, LD_PRELOAD=preload, RACETRAP_LOG_PATH=os.path.join(tmp, "race"))
    proc = subprocess.Popen([program, "10"], cwd=tmp, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    # Kill once the first race is on disk (at most 8 s), then read what is left.
    deadline = time.time() + 8
    raws = []
    while time.time() < deadline:
        time.sleep(0.25)
        raws = glob.glob(os.path.join(tmp, "race.*.raw"))
        if raws and os.path.getsize(raws[0]) > 4096:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    if not raws:
        fail("no raw stream was written before the kill", proc.stderr.read())
    if glob.glob(os.path.join(tmp, "race.[0-9]*[0-9]")):
        fail("a text report exists although the program was killed")
    p = run([racetrap, "report", raws[0]], tmp, check_status=0)
    if "WARNING: racetrap: data race" not in p.stdout or "bump_counter" not in p.stdout:
        fail("racetrap report shows no race from the killed program", p.stdout, p.stderr)
    if "racy_counter.c:" not in p.stdout:
        fail("the race is not symbolized offline with file:line", p.stdout)


def case_merge(racetrap, preload, program, schema, tmp):
    for i in range(3):
        run([racetrap, "run", "--format=json", "--log-path", os.path.join(tmp, "r"), "--", program, SECONDS],
            tmp, check_status=66)
    reports = sorted(glob.glob(os.path.join(tmp, "r.*.json")))
    if len(reports) != 3:
        fail(f"expected 3 JSON reports, found {reports}")
    p = run([racetrap, "report", "--format=json"] + reports, tmp, check_status=0)
    merged = json.loads(p.stdout)
    if len(merged["runs"]) != 3:
        fail(f"the merged report lists {len(merged['runs'])} runs, expected 3", json.dumps(merged["runs"]))
    # Every race of the inputs is one merged entry per fingerprint, its count the
    # sum of the inputs' counts and its runs the number of inputs that had it.
    want_count, want_runs = {}, {}
    for path in reports:
        with open(path, encoding="utf-8") as f:
            races = json.load(f)["races"]
        for race in races:
            fp = race["fingerprint"]
            want_count[fp] = want_count.get(fp, 0) + race["count"]
        for fp in {race["fingerprint"] for race in races}:
            want_runs[fp] = want_runs.get(fp, 0) + 1
    got = {r["fingerprint"]: r for r in merged["races"]}
    if len(got) != len(merged["races"]) or set(got) != set(want_count):
        fail(f"merged fingerprints {sorted(f['fingerprint'] for f in merged['races'])}, "
             f"inputs have {sorted(want_count)}", json.dumps(merged["races"], indent=1)[:4000])
    for fp, race in got.items():
        if race["count"] != want_count[fp] or race["runs"] != want_runs[fp]:
            fail(f"race {fp}: count {race['count']} in {race['runs']} runs, expected {want_count[fp]} "
                 f"in {want_runs[fp]} (summed over the inputs)", json.dumps(race, indent=1)[:3000])
    if max(want_runs.values()) != 3 or merged["races"][0]["runs"] != 3:
        fail("no race was seen in all 3 runs, or it is not ranked first", json.dumps(want_runs))
    p = run([racetrap, "report"] + reports, tmp, check_status=0)
    if "in 3 runs." not in p.stdout:
        fail("the text of the merged report does not say 'in 3 runs'", p.stdout)


def validate(document, schema_path):
    import jsonschema
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    jsonschema.validate(document, schema)


def case_sarif(racetrap, preload, program, schema, tmp):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the source tree
    root = os.path.dirname(root)
    fingerprints = []
    for i in range(2):
        run([racetrap, "run", "--format=sarif,text", f"--source-root={root}", "--log-path",
             os.path.join(tmp, f"s{i}"), "--", program, SECONDS], tmp, check_status=66)
        files = glob.glob(os.path.join(tmp, f"s{i}.*.sarif"))
        if len(files) != 1:
            fail(f"expected one SARIF file, found {files}")
        with open(files[0], encoding="utf-8") as f:
            sarif = json.load(f)
        try:
            validate(sarif, schema)
        except Exception as e:  # jsonschema.ValidationError
            fail(f"{files[0]} does not validate against the SARIF 2.1.0 schema: {e}")
        results = sarif["runs"][0]["results"]
        if not results:
            fail("no SARIF results", json.dumps(sarif)[:3000])
        for r in results:
            if len(r["stacks"]) != 2 or not all(s["frames"] for s in r["stacks"]):
                fail("a result does not have both stacks", json.dumps(r)[:3000])
            loc = r["locations"][0]["physicalLocation"]["artifactLocation"]
            if loc.get("uriBaseId") != "SRCROOT" or loc["uri"] != "examples/racy_counter.c":
                fail("the primary location is not repository-relative", json.dumps(loc))
        # The same race (same rule, same pair of source lines, same stacks' functions)
        # must carry the same fingerprint in both runs; different races different ones.
        by_race = {}
        for r in results:
            key = (r["ruleId"],) + tuple(
                tuple((f["location"].get("logicalLocations", [{}])[0].get("fullyQualifiedName", ""),
                       f["location"].get("physicalLocation", {}).get("region", {}).get("startLine", 0))
                      for f in st["frames"]) for st in r["stacks"])
            fp = r["partialFingerprints"]["racetrapStack/v1"]
            if by_race.get(key, fp) != fp:
                fail(f"one race has two fingerprints in run {i}: {by_race[key]} and {fp}")
            by_race[key] = fp
        if len(set(by_race.values())) != len(by_race):
            fail(f"different races share a fingerprint in run {i}: {by_race}")
        fingerprints.append(by_race)
    common = set(fingerprints[0]) & set(fingerprints[1])
    if not common:
        fail(f"the two runs found no race in common: {list(fingerprints[0])} / {list(fingerprints[1])}")
    for key in common:
        if fingerprints[0][key] != fingerprints[1][key]:
            fail(f"the same race has fingerprint {fingerprints[0][key]} in one run and {fingerprints[1][key]} "
                 f"in the other: {key}")


def case_suppress(racetrap, preload, program, schema, tmp):
    supp = os.path.join(tmp, "tsan.supp")
    with open(supp, "w") as f:
        f.write("# ThreadSanitizer suppressions for racy_counter\n"
                "race:^bump_counter$\n")
    p = run([racetrap, "run", "--suppressions", supp, "--print-suppressions", "--stats", "--",
             program, SECONDS], tmp, check_status=0)
    if "WARNING: racetrap" in p.stderr or glob.glob(os.path.join(tmp, "racetrap.*")):
        fail("the suppressed race was still reported", p.stderr)
    if "race:^bump_counter$" not in p.stderr or "racetrap: matched 1 suppression" not in p.stderr:
        fail("RACETRAP_PRINT_SUPPRESSIONS did not list the rule", p.stderr)
    stats = [l for l in p.stderr.splitlines() if l.startswith("racetrap: stats:")]
    if not stats or " suppressed=0" in stats[0]:
        fail("the stats line does not count suppressed races", p.stderr)
    # `racetrap suppress` on a report of an unsuppressed run writes an equivalent file.
    p = run([racetrap, "run", "--format=json", "--log-path", os.path.join(tmp, "u"), "--", program, SECONDS],
            tmp, check_status=66)
    report = glob.glob(os.path.join(tmp, "u.*.json"))[0]
    p = run([racetrap, "suppress", report], tmp, check_status=0)
    if "race:bump_counter" not in p.stdout:
        fail("racetrap suppress did not name bump_counter", p.stdout)
    with open(supp, "w") as f:
        f.write(p.stdout)
    p = run([racetrap, "run", "--suppressions", supp, "--log-path", os.path.join(tmp, "v"), "--",
             program, SECONDS], tmp, check_status=0)
    if glob.glob(os.path.join(tmp, "v.*")):
        fail("the generated suppressions did not silence the race", p.stderr)


def case_leftover(racetrap, preload, program, schema, tmp):
    script = f'"{program}" 10 & child=$!; i=0; ' \
             f'while [ $i -lt 32 ]; do sleep 0.25; i=$((i+1)); ' \
             f'for f in "{tmp}"/race.*.raw; do [ -s "$f" ] && [ $(stat -c %s "$f") -gt 4096 ] && i=99; done; done; ' \
             f'kill -9 $child; wait $child; exit 0'
    p = run([racetrap, "run", "--log-path", os.path.join(tmp, "race"), "--", "sh", "-c", script], tmp)
    if p.returncode != 66:
        fail(f"racetrap run exited {p.returncode}, expected 66", p.stderr)
    if "did not finish its report" not in p.stderr or "WARNING: racetrap: data race" not in p.stderr:
        fail("the killed child's raw stream was not rendered", p.stderr)
    if glob.glob(os.path.join(tmp, "race.*.raw")):
        fail("the rendered raw stream was left behind")


CASES = {"kill": case_kill, "merge": case_merge, "sarif": case_sarif, "suppress": case_suppress,
         "leftover": case_leftover}


def main():
    if len(sys.argv) != 6 or sys.argv[1] not in CASES:
        print(__doc__)
        return 2
    case, racetrap, preload, program, schema = sys.argv[1:]
    with tempfile.TemporaryDirectory(prefix="racetrap_report_") as tmp:
        CASES[case](os.path.abspath(racetrap), os.path.abspath(preload), os.path.abspath(program),
                    os.path.abspath(schema), tmp)
    print(f"ok: {case}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
