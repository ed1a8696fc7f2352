#!/usr/bin/env python3
"""check_symbols.py — racetrap's signal path may not call what is unsafe in a
signal handler. Reads the undefined symbols of every object in the given static
libraries (nm) and fails when one references the allocator, operator new/delete,
a guarded static (__cxa_guard_acquire), C++ exceptions, stdio or
pthread_mutex_lock.

  check_symbols.py NM LIB.a...                   fails on any such reference
  check_symbols.py NM --expect-all CANARY.a      fails unless every category is
                                                 found (the check can fail)
"""
import re
import subprocess
import sys

# category -> pattern over raw (mangled) symbol names
FORBIDDEN = {
    "allocator": r"(malloc|calloc|realloc|free|posix_memalign|aligned_alloc|memalign|valloc|pvalloc)",
    "operator new/delete": r"_Zn[wa].*|_Zd[la].*",
    "guarded static": r"__cxa_guard_acquire",
    "C++ exception": r"__cxa_allocate_exception|__cxa_throw",
    "stdio": r"(__)?(v?[fsd]?n?printf|v?[fsd]?printf)(_chk)?|fopen(64)?|fdopen|fclose|fread|fwrite|fputs|fputc|"
             r"putc|puts|putchar|fflush|fgets|getline|v?f?scanf|__isoc99_v?f?scanf|perror|stdin|stdout|stderr|_IO_.*",
    "pthread_mutex_lock": r"pthread_mutex_(timed)?lock",
}
PATTERNS = {name: re.compile(r"^(?:%s)(?:@.*)?$" % p) for name, p in FORBIDDEN.items()}


def undefined_symbols(nm, archive):
    """(member, symbol) pairs of the archive's undefined references."""
    out = subprocess.run([nm, "-A", "--undefined-only", archive], check=True, capture_output=True,
                         text=True).stdout
    pairs = []
    for line in out.splitlines():
        # "lib.a:member.o:                 U symbol"
        where, _, rest = line.rpartition(": ")
        fields = rest.split()
        if len(fields) >= 2 and fields[-2] == "U":
            pairs.append((where.split(":")[-1], fields[-1]))
        elif len(fields) == 2 and fields[0] == "U":
            pairs.append((where.split(":")[-1], fields[1]))
    return pairs


def violations(nm, archives):
    found = []
    for archive in archives:
        for member, symbol in undefined_symbols(nm, archive):
            for category, pattern in PATTERNS.items():
                if pattern.match(symbol):
                    found.append((archive, member, symbol, category))
    return found


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    nm = argv[1]
    if argv[2] == "--expect-all":
        found = violations(nm, argv[3:])
        missing = sorted(set(FORBIDDEN) - {v[3] for v in found})
        if missing:
            print("check_symbols: the canary's " + ", ".join(missing) + " references were not detected")
            return 1
        print(f"check_symbols: canary: all {len(FORBIDDEN)} categories detected ({len(found)} references)")
        return 0
    archives = argv[2:]
    checked = sum(len({m for m, _ in undefined_symbols(nm, a)}) for a in archives)
    if checked == 0:
        print("check_symbols: no object files found in " + " ".join(archives))
        return 1
    found = violations(nm, archives)
    for archive, member, symbol, category in found:
        print(f"{member} ({archive}): references {symbol} ({category}), not async-signal-safe")
    if found:
        return 1
    print(f"check_symbols: {checked} signal-path object files reference nothing unsafe")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
