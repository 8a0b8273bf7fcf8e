#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Every printf conversion in the library's string literals is one format_message supports.

Status messages are formatted by lib/core/format.cpp, which knows a subset of printf (the one
newlib and newlib-nano need help with, see format.hpp); a conversion outside it would print as
written on every target. This scans lib/ and include/ (outside __asm__ statements) and fails
naming the literal.
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


def without_asm(text):
    """text with every __asm__ statement blanked: its literals are assembly, whose operand
    modifiers (%h0, %w[x]) are not printf conversions and never reach format_message."""
    out, i = [], 0
    for m in re.finditer(r"\b__asm__\b", text):
        if m.start() < i:
            continue
        j = text.find("(", m.end())
        if j < 0:
            break
        depth, k = 0, j
        while k < len(text):
            c = text[k]
            if c == '"':
                k += 1
                while k < len(text) and text[k] != '"':
                    k += 2 if text[k] == "\\" else 1
            elif c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
                if depth == 0:
                    break
            k += 1
        out.append(text[i:m.start()])
        i = k + 1
    out.append(text[i:])
    return "".join(out)


def main():
    root = pathlib.Path(sys.argv[1])
    bad = []
    count = 0
    for path in sorted(list(root.glob("lib/**/*.[ch]pp")) + list(root.glob("include/**/*.hpp"))):
        text = without_asm(re.sub(r"//[^\n]*", "", path.read_text(encoding="utf-8")))
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
