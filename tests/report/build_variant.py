#!/usr/bin/env python3
"""Build one program with a given compiler and flags, for the symbolization tests.

usage: build_variant.py [--drop-aranges OBJCOPY] OUTPUT SOURCE CC [FLAGS...]

--drop-aranges removes .debug_aranges from the result (objcopy), so the test
proves symbolization works without it (gcc emits it, clang does not by default).
"""

import subprocess
import sys


def main():
    args = sys.argv[1:]
    objcopy = None
    if args[0] == "--drop-aranges":
        objcopy, args = args[1], args[2:]
    output, source, cc, flags = args[0], args[1], args[2], args[3:]
    subprocess.run([cc, *flags, source, "-o", output], check=True)
    if objcopy:
        subprocess.run([objcopy, "--remove-section=.debug_aranges", output], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
