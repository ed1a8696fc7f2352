#!/usr/bin/env python3
"""run_copy_tunables_case.py RACETRAP — `racetrap run` gives the program glibc's rep
movsb/stosb thresholds at their maximum (GLIBC_TUNABLES), keeps the user's own
tunables and any threshold the user set, and sets nothing with RACETRAP_FAST_COPY=0.
The program is /usr/bin/env, which prints what it was given."""
import os
import subprocess
import sys

MOVSB = "glibc.cpu.x86_rep_movsb_threshold"
STOSB = "glibc.cpu.x86_rep_stosb_threshold"
MAX = "0xffffffffffffffff"


def tunables(racetrap, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RACETRAP_") and k != "GLIBC_TUNABLES"}
    env.update(extra)
    env["RACETRAP_LOG_PATH"] = "stderr"
    out = subprocess.run([racetrap, "run", "--", "/usr/bin/env"], env=env, check=True, capture_output=True,
                         text=True).stdout
    values = [line.split("=", 1)[1] for line in out.splitlines() if line.startswith("GLIBC_TUNABLES=")]
    return values[0].split(":") if values else None


def main():
    racetrap = sys.argv[1]
    failures = []
    got = tunables(racetrap)
    if got != ["%s=%s" % (MOVSB, MAX), "%s=%s" % (STOSB, MAX)]:
        failures.append("default: %r" % (got,))
    got = tunables(racetrap, GLIBC_TUNABLES="%s=4096:glibc.malloc.check=0" % MOVSB)
    if got != ["%s=4096" % MOVSB, "glibc.malloc.check=0", "%s=%s" % (STOSB, MAX)]:
        failures.append("with the user's tunables: %r" % (got,))
    got = tunables(racetrap, RACETRAP_FAST_COPY="0")
    if got is not None:
        failures.append("RACETRAP_FAST_COPY=0: %r" % (got,))
    for f in failures:
        print("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
