#!/usr/bin/env python3
"""End-to-end tests of where raced-on memory is, and of offline symbolization of a
stripped binary with separate debug info.

usage: location_cases.py CASE RACETRAP PRELOAD PROGRAM SOURCE OBJCOPY STRIP

CASE      thread-stack  a local of T1 raced on by T1 and T2: every race says
                        "Location is stack of thread T1." (JSON: kind stack, thread_uid 1)
          tls           a __thread variable of T1: "Location is TLS of thread T1."
          main-stack    a local of main raced on by main and T1:
                        "Location is stack of main thread." (thread_uid 0)
          idle-stack    a local of T1 raced on by T2 and T3 only (T1's record is in
                        the stream although T1 is in no race): "stack of thread T1."
          small-stack   as thread-stack, T1 with a 64 KiB stack and no guard page
          own-stack     as thread-stack, T1 on a stack the program supplies
          debug-dir     PROGRAM stripped, its debug info (objcopy --only-keep-debug) in
                        DIR/.build-id/xx/rest.debug only: `racetrap report` on the raw
                        stream shows no file:line of it without --debug-dir, and
                        race_on SOURCE:<RACE line> in both stacks with --debug-dir=DIR.
          debuglink     PROGRAM stripped with a .gnu_debuglink, the debug file next to
                        it, then in its .debug/ subdirectory: libdw finds it by itself.
PROGRAM is tests/report/programs/memory_location.c built with -g and a build-id;
SOURCE its source (for the `// RACE` line).
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

SECONDS = "1.0"
WARNING = "WARNING: racetrap: data race"
# The environment every run gets: fast sampling, no debuginfod (hermetic).
BASE_ENV = {"RACETRAP_SAMPLE_US": "300"}
DROP_ENV = ("DEBUGINFOD_URLS", "LD_PRELOAD", "RACETRAP_FORMAT", "RACETRAP_LOG_PATH")

LOCATIONS = {
    "thread-stack": ("Location is stack of thread T1.", "stack", 1),
    "tls": ("Location is TLS of thread T1.", "tls", 1),
    "main-stack": ("Location is stack of main thread.", "stack", 0),
    "idle-stack": ("Location is stack of thread T1.", "stack", 1),
    "small-stack": ("Location is stack of thread T1.", "stack", 1),
    "own-stack": ("Location is stack of thread T1.", "stack", 1),
}


def fail(message, *details):
    print("FAIL: " + message)
    for d in details:
        print(d)
    sys.exit(1)


def environment(extra=None):
    env = {k: v for k, v in os.environ.items() if k not in DROP_ENV}
    env.update(BASE_ENV)
    env.update(extra or {})
    return env


def run(cmd, cwd, env=None, expect=0):
    p = subprocess.run(cmd, cwd=cwd, env=environment(env), capture_output=True, text=True,
                       errors="replace", timeout=60)
    if expect is not None and p.returncode != expect:
        fail(f"{' '.join(cmd)} exited {p.returncode}, expected {expect}", p.stdout, p.stderr)
    return p


def race_blocks(report):
    starts = [m.start() for m in re.finditer(re.escape(WARNING), report)]
    return [report[s:e] for s, e in zip(starts, starts[1:] + [len(report)])]


def race_line(source):
    with open(source, encoding="utf-8") as f:
        lines = [n for n, line in enumerate(f, 1) if re.search(r"//\s*RACE\b", line)]
    if len(lines) != 1:
        fail(f"{source} should have exactly one // RACE line, has {lines}")
    return lines[0]


def run_racy(preload, program, kind, tmp, formats="text", exit_mode=None):
    """Runs PROGRAM KIND under the preload; returns the log path prefix."""
    prefix = os.path.join(tmp, "race")
    args = [program, kind, SECONDS] + ([exit_mode] if exit_mode else [])
    run(args, tmp, env={"LD_PRELOAD": preload, "RACETRAP_LOG_PATH": prefix, "RACETRAP_FORMAT": formats})
    return prefix


def only_file(pattern):
    files = glob.glob(pattern)
    if len(files) != 1:
        fail(f"expected one file {pattern}, found {files}")
    return files[0]


def case_location(kind, racetrap, preload, program, source, objcopy, strip, tmp):
    text_line, json_kind, uid = LOCATIONS[kind]
    prefix = run_racy(preload, program, kind, tmp, formats="text,json")
    reports = [f for f in glob.glob(prefix + ".*") if re.fullmatch(r".*\.\d+", f)]
    if len(reports) != 1:
        fail(f"expected one text report, found {reports}")
    with open(reports[0], encoding="utf-8") as f:
        report = f.read()
    blocks = race_blocks(report)
    if not blocks:
        fail("no race was reported", report)
    for block in blocks:
        locations = [l.strip() for l in block.splitlines() if l.strip().startswith("Location is")]
        if locations != [text_line]:
            fail(f"a race does not say '{text_line}' (it says {locations})", block)
    with open(only_file(prefix + ".*.json"), encoding="utf-8") as f:
        doc = json.load(f)
    for race in doc["races"]:
        loc = race["location"]
        if loc.get("kind") != json_kind or loc.get("thread_uid") != uid:
            fail(f"JSON location is {loc}, expected kind {json_kind} thread_uid {uid}")


def build_id(objcopy, binary, tmp):
    """The hex build-id of BINARY, from its .note.gnu.build-id section."""
    note = os.path.join(tmp, "build-id.note")
    subprocess.run([objcopy, "-O", "binary", "--only-section=.note.gnu.build-id", binary, note], check=True)
    with open(note, "rb") as f:
        data = f.read()
    os.remove(note)
    if len(data) < 16:
        fail(f"{binary} has no build-id note (link it with -Wl,--build-id)")
    namesz, descsz, kind = (int.from_bytes(data[i:i + 4], "little") for i in (0, 4, 8))
    if kind != 3:  # NT_GNU_BUILD_ID
        fail(f"{binary}: unexpected note type {kind}")
    start = 12 + (namesz + 3) // 4 * 4
    return data[start:start + descsz].hex()


def stripped_copy(program, objcopy, strip, directory):
    """PROGRAM's debug info split off into directory/NAME.debug, and a stripped copy
    directory/NAME with no debug info and no symbol table. Returns both paths."""
    os.makedirs(directory, exist_ok=True)
    binary = os.path.join(directory, os.path.basename(program))
    debug = binary + ".debug"
    subprocess.run([objcopy, "--only-keep-debug", program, debug], check=True)
    subprocess.run([strip, "--strip-all", "-o", binary, program], check=True)
    names = section_names(binary)
    if ".debug_info" in names or ".debug_line" in names or ".symtab" in names:
        fail(f"{binary} still has debug info or a symbol table after strip: {sorted(names)}")
    if ".debug_line" not in section_names(debug):
        fail(f"{debug} has no line table: {sorted(section_names(debug))}")
    return binary, debug


def section_names(path):
    """The section names of an ELF64 little-endian file."""
    import struct
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        fail(f"{path} is not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    def header(i):
        return struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
    strtab = header(shstrndx)
    names = set()
    for i in range(shnum):
        name_offset = header(i)[0]
        start = strtab[4] + name_offset
        names.add(data[start:data.index(b"\0", start)].decode("ascii", "replace"))
    return names


def check_symbolized(report, source, line, what):
    """Every race shows race_on SOURCE:LINE in both access stacks."""
    blocks = race_blocks(report)
    if not blocks:
        fail(f"{what}: no race in the rendered raw stream", report)
    want = re.compile(r"#\d+ race_on \S*" + re.escape(os.path.basename(source)) + f":{line}(:\\d+)? ")
    for block in blocks:
        current, _, previous = block.partition("  Previous ")
        if not want.search(current) or not want.search(previous):
            fail(f"{what}: a race lacks 'race_on {os.path.basename(source)}:{line}' in both stacks", block)


def render_raw(racetrap, raw, tmp, extra=()):
    return run([racetrap, "report", *extra, raw], tmp).stdout


def case_debug_dir(racetrap, preload, program, source, objcopy, strip, tmp):
    line = race_line(source)
    binary, debug = stripped_copy(program, objcopy, strip, os.path.join(tmp, "bin"))
    bid = build_id(objcopy, program, tmp)
    if bid != build_id(objcopy, binary, tmp):
        fail("strip changed the build-id")
    debug_dir = os.path.join(tmp, "debug")
    target = os.path.join(debug_dir, ".build-id", bid[:2], bid[2:] + ".debug")
    os.makedirs(os.path.dirname(target))
    shutil.move(debug, target)

    prefix = run_racy(preload, binary, "thread-stack", tmp, exit_mode="_exit")
    raw = only_file(prefix + ".*.raw")
    plain = render_raw(racetrap, raw, tmp)
    if WARNING not in plain:
        fail("no race in the raw stream", plain)
    if os.path.basename(source) + ":" in plain:
        fail("the stripped binary is shown with file:line without its debug file: the test proves nothing",
             plain)
    report = render_raw(racetrap, raw, tmp, ["--debug-dir", debug_dir])
    check_symbolized(report, source, line, "--debug-dir")
    if "Location is stack of thread T1." not in report:
        fail("the report does not say whose stack it is", report)
    # The equals form works too.
    check_symbolized(render_raw(racetrap, raw, tmp, [f"--debug-dir={debug_dir}"]), source, line, "--debug-dir=")
    print(report)


def case_debuglink(racetrap, preload, program, source, objcopy, strip, tmp):
    line = race_line(source)
    for where in ("next to the binary", "in .debug/"):
        directory = os.path.join(tmp, "next" if where == "next to the binary" else "sub")
        binary, debug = stripped_copy(program, objcopy, strip, directory)
        # The link names the file and carries its CRC: made where the file is.
        subprocess.run([objcopy, f"--add-gnu-debuglink={os.path.basename(debug)}", binary], cwd=directory,
                       check=True)
        if where == "in .debug/":
            os.makedirs(os.path.join(directory, ".debug"))
            shutil.move(debug, os.path.join(directory, ".debug", os.path.basename(debug)))
        run_dir = os.path.join(directory, "run")
        os.makedirs(run_dir)
        prefix = run_racy(preload, binary, "thread-stack", run_dir, exit_mode="_exit")
        raw = only_file(prefix + ".*.raw")
        check_symbolized(render_raw(racetrap, raw, run_dir), source, line, f"debuglink, debug file {where}")
        # Without the debug file the same stream has no file:line (the test is real).
        os.remove(os.path.join(directory, ".debug", os.path.basename(debug)) if where == "in .debug/" else debug)
        plain = render_raw(racetrap, raw, run_dir)
        if os.path.basename(source) + ":" in plain:
            fail(f"file:line shown with the debug file ({where}) removed", plain)


def main():
    if len(sys.argv) != 8:
        fail(__doc__)
    case, racetrap, preload, program, source, objcopy, strip = sys.argv[1:]
    racetrap, preload, program, source = (os.path.abspath(p) for p in (racetrap, preload, program, source))
    with tempfile.TemporaryDirectory(prefix="racetrap-location-") as tmp:
        if case in LOCATIONS:
            case_location(case, racetrap, preload, program, source, objcopy, strip, tmp)
        elif case == "debug-dir":
            case_debug_dir(racetrap, preload, program, source, objcopy, strip, tmp)
        elif case == "debuglink":
            case_debuglink(racetrap, preload, program, source, objcopy, strip, tmp)
        else:
            fail(f"unknown case {case}")
    print("ok")


if __name__ == "__main__":
    main()
