#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Every source, header, script and build file Fennec ships names its licence in an SPDX line.

  scripts/spdx.py          check: list the tracked files without the line, exit 1 if any
  scripts/spdx.py --fix    add the line (after a shebang) to those files

Files that cannot carry a comment (JSON, binary fixtures, fuzz inputs) or are prose (Markdown,
the LICENSE itself) are not checked; the rules below say which.
"""
import subprocess
import sys

TAG = "SPDX-License-Identifier: Apache-2.0"

# Comment syntax by file name ending; a tracked file matching none of these is not checked.
HASH = ("#", "")
SLASH = ("//", "")
BLOCK = ("/*", " */")
STYLES = {
    ".hpp.in": SLASH,
    ".cpp": SLASH, ".hpp": SLASH, ".h": SLASH, ".c": SLASH, ".def": SLASH,
    ".cmake": HASH, "CMakeLists.txt": HASH, ".in": HASH, ".sh": HASH, ".py": HASH,
    ".dict": HASH, ".gitignore": HASH, ".ld": BLOCK, ".ci/run": HASH,
}


def style_of(path):
    for ending, style in STYLES.items():
        if path.endswith(ending):
            return style
    return None


def tracked_files():
    out = subprocess.run(["git", "ls-files"], check=True, capture_output=True, text=True).stdout
    return [p for p in out.splitlines() if style_of(p) is not None]


def has_tag(text):
    # The line must be in the first five lines, where licence scanners look for it.
    return any(TAG in line for line in text.splitlines()[:5])


def add_tag(path, text):
    open_, close = style_of(path)
    line = f"{open_} {TAG}{close}\n"
    lines = text.splitlines(keepends=True)
    at = 1 if lines and lines[0].startswith("#!") else 0
    lines.insert(at, line)
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(lines))


def main():
    fix = "--fix" in sys.argv[1:]
    missing = []
    for path in tracked_files():
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if has_tag(text):
            continue
        if fix:
            add_tag(path, text)
        else:
            missing.append(path)
    if missing:
        print(f"{len(missing)} files lack '{TAG}' in their first five lines:", file=sys.stderr)
        for p in missing:
            print("  " + p, file=sys.stderr)
        return 1
    print(f"licence: all {len(tracked_files())} source, header, script and build files carry '{TAG}'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
