#!/usr/bin/env python3
"""Every libc function the preload looks up with next_function is in the table
that is resolved before a second thread runs (preload/interposers/real_function.cc),
so no interposer pays a first dlsym inside a program's lock hold.

usage: check_real_functions.py PRELOAD_DIR
Fails naming each looked-up function missing from the table, and each table entry
nothing looks up.
"""
import pathlib
import re
import sys


def main():
    root = pathlib.Path(sys.argv[1])
    table_file = root / "interposers" / "real_function.cc"
    table = set(re.findall(r'^\s*\{"([A-Za-z0-9_]+)",', table_file.read_text(), re.M))
    used = {}
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".cc", ".h") or path == table_file:
            continue
        text = path.read_text()
        # next_function<TYPE>("name"...), the type possibly spanning lines.
        for m in re.finditer(r'next_function<.*?>\(\s*"([A-Za-z0-9_]+)"', text, re.S):
            used.setdefault(m.group(1), str(path.relative_to(root)))
        # cached_next_function(cache, "name") (real_function.h)
        for m in re.finditer(r'cached_next_function\(\s*g_real_\w+\s*,\s*"([A-Za-z0-9_]+)"', text):
            used.setdefault(m.group(1), str(path.relative_to(root)))
    if not table or not used:
        print(f"found no table ({len(table)}) or no lookups ({len(used)}): the patterns are out of date")
        return 1
    missing = sorted(set(used) - table)
    unused = sorted(table - set(used))
    for name in missing:
        print(f"{used[name]}: next_function(\"{name}\") is not in {table_file.name}'s table")
    for name in unused:
        print(f"{table_file.name}: \"{name}\" is in the table but nothing looks it up")
    print(f"{len(used)} looked-up functions, {len(table)} in the table")
    return 1 if missing or unused else 0


if __name__ == "__main__":
    sys.exit(main())
