#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Per-call instruction counts of every case a counting program announces, under QEMU with the
counting plugin, and the regression gate against a committed baseline.

The program (insn_count_bench.cpp, or the Cortex-M4 kernel-count firmware) prints
`case NAME R1 R2 WORK UNIT` before each case and executes three markers per case; the plugin
snapshots its counters at each. One call = (d2 - d1) / (R2 - R1) with d1, d2 the counts of the
R1 and R2 runs, so set-up and the loop around the calls cancel.

  count.py --config build/aarch64/bench/qemu/count_config.json [--baseline bench/qemu/baseline.json]
           [--check] [--update-baseline] [--markdown FILE] [--json FILE]

--check fails (exit 1) when a case's instructions per unit exceed its baseline by more than
--tolerance (default 10%), or when a baseline case did not run.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

COUNTERS = ("insns", "fma", "load", "store", "ldm", "cycles")


def parse_counters(fields):
    out = {}
    for f in fields:
        k, _, v = f.partition("=")
        out[k] = int(v)
    return out


def run(config, timeout):
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "counts.txt")
        args = ["out=" + report] + config.get("plugin_args", [])
        cmd = list(config["emulator"])
        plugin = "-plugin"
        # qemu-system takes the image after -kernel, which the emulator list ends with: the
        # plugin goes before it.
        if cmd and cmd[-1] == "-kernel":
            cmd = cmd[:-1] + [plugin, ",".join([config["plugin"]] + args), "-kernel"]
        else:
            cmd = cmd + [plugin, ",".join([config["plugin"]] + args)]
        cmd.append(config["program"])
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout, text=True)
        if p.returncode != 0:
            sys.stdout.write(p.stdout)
            raise SystemExit(f"count.py: {' '.join(cmd)} exited with {p.returncode}")
        marks = []
        total = None
        with open(report) as f:
            for line in f:
                w = line.split()
                if w and w[0] == "mark":
                    marks.append(parse_counters(w[2:]))
                elif w and w[0] == "total":
                    total = parse_counters(w[1:])
    isa = None
    cases = []
    for line in p.stdout.splitlines():
        w = line.split()
        if len(w) >= 2 and w[0] == "isa":
            isa = w[1]
        elif len(w) == 6 and w[0] == "case":
            cases.append({"name": w[1], "r1": int(w[2]), "r2": int(w[3]), "work": float(w[4]), "unit": w[5]})
    if len(marks) != 3 * len(cases):
        raise SystemExit(f"count.py: {len(cases)} cases announced but {len(marks)} markers executed "
                         "(want 3 per case): is the plugin loaded, and did the program finish?")
    results = []
    for i, c in enumerate(cases):
        m0, m1, m2 = marks[3 * i: 3 * i + 3]
        one = {}
        for k in m0:
            d1, d2 = m1[k] - m0[k], m2[k] - m1[k]
            one[k] = (d2 - d1) / (c["r2"] - c["r1"])
        r = dict(c)
        r["call"] = one
        r["per_unit"] = one["insns"] / c["work"]
        r["fma_share"] = one["fma"] / one["insns"] if one["insns"] else 0.0
        r["ldm_share"] = one["ldm"] / one["insns"] if one["insns"] else 0.0
        if "cycles" in one:
            r["cycles_per_unit"] = one["cycles"] / c["work"]
        results.append(r)
    return isa, total, results


def markdown(target, isa, results):
    has_cycles = any("cycles_per_unit" in r for r in results)
    head = "| case | instructions / call | per MAC or element | FMA share | multi-load share |"
    rule = "|---|---:|---:|---:|---:|"
    if has_cycles:
        head += " est. cycles / call | est. cycles per unit |"
        rule += "---:|---:|"
    lines = [f"{target} ({isa} table)", "", head, rule]
    for r in results:
        unit = "MAC" if r["unit"] == "mac" else "elem"
        row = (f"| {r['name']} | {r['call']['insns']:,.0f} | {r['per_unit']:.3f} / {unit} | "
               f"{100 * r['fma_share']:.0f}% | {100 * r['ldm_share']:.0f}% |")
        if has_cycles:
            row += f" {r['call'].get('cycles', 0):,.0f} | {r.get('cycles_per_unit', 0):.2f} |"
        lines.append(row)
    # Training steps at batch N: the estimated cycles of one training sample.
    for r in results:
        b = re.search(r"/b(\d+)$", r["name"])
        if "train" in r["name"] and b and "cycles" in r["call"]:
            n = int(b.group(1))
            lines.append(f"\n{r['name']}: est. {r['call']['cycles'] / n:,.0f} cycles per training sample "
                         f"({r['call']['insns'] / n:,.0f} instructions), an estimate at the Cortex-M4 TRM's "
                         "instruction timings, not a measurement")
    return "\n".join(lines) + "\n"


def check(target, results, baseline, tolerance):
    base = baseline.get(target)
    if base is None:
        print(f"count.py: no baseline for target {target}: nothing to check against")
        return 1
    failures = 0
    seen = set()
    for r in results:
        seen.add(r["name"])
        b = base.get(r["name"])
        if b is None:
            print(f"  new case (no baseline): {r['name']} {r['per_unit']:.4f}")
            continue
        ratio = r["per_unit"] / b
        if ratio > 1 + tolerance:
            print(f"  REGRESSION {r['name']}: {r['per_unit']:.4f} per unit, baseline {b:.4f} (+{100 * (ratio - 1):.1f}%)")
            failures += 1
        elif ratio < 1 - tolerance:
            print(f"  improved {r['name']}: {r['per_unit']:.4f} per unit, baseline {b:.4f} "
                  f"({100 * (ratio - 1):.1f}%): update the baseline (--update-baseline)")
    for name in sorted(set(base) - seen):
        print(f"  MISSING {name}: in the baseline but not run")
        failures += 1
    print(f"count.py: {target}: {len(results)} cases, {failures} regressed or missing "
          f"(gate: +{100 * tolerance:.0f}% instructions per unit)")
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True)
    ap.add_argument("--baseline")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--update-baseline", action="store_true")
    ap.add_argument("--tolerance", type=float, default=0.10)
    ap.add_argument("--markdown")
    ap.add_argument("--json")
    ap.add_argument("--timeout", type=float, default=600)
    a = ap.parse_args()
    with open(a.config) as f:
        config = json.load(f)
    target = config["target"]
    isa, total, results = run(config, a.timeout)
    md = markdown(target, isa, results)
    sys.stdout.write(md)
    print(f"whole run: {total['insns']:,} instructions")
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(md)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"target": target, "isa": isa, "results": results}, f, indent=1)
    status = 0
    if a.update_baseline:
        baseline = {}
        if os.path.exists(a.baseline):
            with open(a.baseline) as f:
                baseline = json.load(f)
        baseline[target] = {r["name"]: round(r["per_unit"], 4) for r in results}
        with open(a.baseline, "w") as f:
            json.dump(baseline, f, indent=1, sort_keys=True)
            f.write("\n")
        print(f"count.py: baseline for {target} written to {a.baseline}")
    elif a.check:
        with open(a.baseline) as f:
            status = check(target, results, json.load(f), a.tolerance)
    return status


if __name__ == "__main__":
    sys.exit(main())
