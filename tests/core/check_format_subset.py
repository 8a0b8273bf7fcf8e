#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Every printf conversion in the library's string literals is one format_message supports.

Status messages are formatted by lib/core/format.cpp, which knows a subset of printf (the one
newlib and newlib-nano need help with, see format.hpp); a conversion outside it would print as
written on every target. This scans lib/ and include/ and fails naming the literal.
Usage: check_format_subset.py SOURCE_DIR
"""
import pathlib
import re
import sys

CONVERSION = re.compile(r"%[-+ #0]*(\*|\d+)?(\.(\*|\d+))?(hh|h|ll|l|z|j|t|L)?([a-zA-Z%])")


def supported(m):
    star = m.group(1) == "*" or m.group(3) == "*"
    length, conv = m.group(4) or "", m.group(5)
    if conv == "%":
        return m.group(0) == "%%"
    if conv == "s":
        return length == ""
    if conv in "cp":
        return length == "" and not star
    if conv in "dxXu":
        return length in ("", "l", "ll", "z") and not star
    if conv in "efg":
        return length in ("", "l") and not star
    return False


def main():
    root = pathlib.Path(sys.argv[1])
    bad = []
    count = 0
    for path in sorted(list(root.glob("lib/**/*.[ch]pp")) + list(root.glob("include/**/*.hpp"))):
        text = re.sub(r"//[^\n]*", "", path.read_text(encoding="utf-8"))
        for literal in re.findall(r'"((?:[^"\\\n]|\\.)*)"', text):
            for m in CONVERSION.finditer(literal):
                count += 1
                if not supported(m):
                    bad.append(f"{path.relative_to(root)}: '{m.group(0)}' in \"{literal}\"")
    for b in bad:
        print("outside format_message's subset:", b)
    print(f"{count} conversions in library string literals, {len(bad)} outside the subset")
    return 1 if bad or count == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
