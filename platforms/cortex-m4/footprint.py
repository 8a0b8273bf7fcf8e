#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Attributes a GNU ld map file's linked input sections to their objects.

  footprint.py firmware.map [--lib libfennec.a] [--budget-text BYTES]

Prints text / rodata / data / bss per object of the library (only what the linker kept after
--gc-sections), the library total, and totals for the other inputs (firmware objects, libc, libm,
libgcc...). With --budget-text, exits 1 if the library's text + rodata exceeds the budget. Exits 2
when no object of the library is found in the map (an empty or truncated map, a wrong --lib): a
figure of 0 bytes would otherwise pass any budget.
"""
import argparse
import collections
import re
import sys

ONE_LINE = re.compile(r"^ (\.\S+|COMMON)\s+0x[0-9a-fA-F]+\s+0x([0-9a-fA-F]+)\s+(\S.*)$")
NAME_ONLY = re.compile(r"^ (\.\S+|COMMON)$")
ADDR_LINE = re.compile(r"^\s+0x[0-9a-fA-F]+\s+0x([0-9a-fA-F]+)\s+(\S.*)$")
KINDS = ("text", "rodata", "data", "bss")


def kind_of(section):
    for prefix, kind in ((".text", "text"), (".rodata", "rodata"), (".data", "data"),
                         (".bss", "bss"), ("COMMON", "bss")):
        if section.startswith(prefix):
            return kind
    return None  # debug info, .ARM.exidx/attributes, init arrays...


def parse(path):
    sizes = collections.defaultdict(lambda: collections.Counter())
    in_map = False
    pending = None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("Linker script and memory map"):
                in_map = True
                continue
            if not in_map:
                continue
            m = ONE_LINE.match(line)
            if m:
                section, size, origin = m.group(1), int(m.group(2), 16), m.group(3)
            elif pending is not None and ADDR_LINE.match(line):
                m2 = ADDR_LINE.match(line)
                section, size, origin = pending, int(m2.group(1), 16), m2.group(2)
            else:
                m3 = NAME_ONLY.match(line)
                pending = m3.group(1) if m3 else None
                continue
            pending = None
            kind = kind_of(section)
            if kind and size:
                sizes[origin.strip()][kind] += size
    return sizes


def group_of(origin, lib):
    m = re.search(r"([^/]+\.a)\((.*)\)$", origin)
    if m:
        return ("lib", m.group(2)) if m.group(1) == lib else ("other", m.group(1))
    return ("other", origin.rsplit("/", 1)[-1])


def row(name, c):
    return f"  {name:<34} {c['text']:>7} {c['rodata']:>7} {c['data']:>6} {c['bss']:>6}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("map")
    ap.add_argument("--lib", default="libfennec.a")
    ap.add_argument("--budget-text", type=int, default=0)
    args = ap.parse_args()
    sizes = parse(args.map)
    lib_objs = collections.defaultdict(collections.Counter)
    others = collections.defaultdict(collections.Counter)
    for origin, c in sizes.items():
        where, name = group_of(origin, args.lib)
        (lib_objs if where == "lib" else others)[name].update(c)
    header = f"  {'object':<34} {'text':>7} {'rodata':>7} {'data':>6} {'bss':>6}"
    print(f"{args.lib} code linked into the image (after --gc-sections), bytes:")
    print(header)
    total = collections.Counter()
    for name in sorted(lib_objs):
        print(row(name, lib_objs[name]))
        total.update(lib_objs[name])
    print(row("TOTAL " + args.lib, total))
    print("Everything else in the image, bytes:")
    print(header)
    for name in sorted(others, key=lambda n: -sum(others[n].values())):
        print(row(name, others[name]))
    if not lib_objs:
        print(f"footprint.py: no object of {args.lib} in {args.map} ({len(sizes)} input files with "
              f"sections in its memory map): nothing to measure", file=sys.stderr)
        return 2
    flash = total["text"] + total["rodata"]
    print(f"{args.lib}: {len(lib_objs)} objects, {flash} bytes of flash (text {total['text']} + rodata "
          f"{total['rodata']}), {total['data'] + total['bss']} bytes of RAM (data {total['data']} + bss "
          f"{total['bss']})")
    if args.budget_text:
        verdict = "within" if flash <= args.budget_text else "OVER"
        print(f"{args.lib} flash {flash} B vs budget {args.budget_text} B: {verdict}")
        return 0 if flash <= args.budget_text else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
