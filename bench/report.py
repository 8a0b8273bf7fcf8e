#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Turn fennec_bench's JSON output into the markdown tables of bench/README.md.

usage: OPENBLAS_NUM_THREADS=1 fennec_bench --benchmark_out=run.json --benchmark_out_format=json
       python3 bench/report.py run.json

Every figure comes from the one run: GFLOP/s, the fraction of the FMA peak measured by the same
binary (BM_fma_peak), and ratios to OpenBLAS / Eigen on the same shapes. Times are CPU time
(Google Benchmark's default), which on a shared machine excludes time the thread was descheduled.
"""
import json
import sys
from collections import OrderedDict

ARCHS = ["ref", "sse2", "neon", "neon64", "avx2fma", "avx512", "openblas", "openblas_gemv", "eigen"]


def load(path):
    with open(path) as f:
        data = json.load(f)
    rows = OrderedDict()
    for b in data["benchmarks"]:
        if b.get("run_type") == "aggregate" or b.get("error_occurred"):
            continue
        scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b.get("time_unit", "ns")]
        b["cpu_s"] = b["cpu_time"] * scale
        rows[b["name"]] = b
    return data.get("context", {}), rows


def split(name):
    parts = name.split("/")
    return parts[0], parts[1] if len(parts) > 1 else "", "/".join(parts[2:])


def fmt(x, nd=1):
    return "-" if x is None else f"{x:.{nd}f}"


def main():
    ctx, rows = load(sys.argv[1])
    peak = max((r["FLOP/s"] for n, r in rows.items() if n.startswith("BM_fma_peak/")), default=None)
    print(f"Host: {ctx.get('host_name', '?')}, {ctx.get('num_cpus', '?')} CPUs at {ctx.get('mhz_per_cpu', '?')} MHz, "
          f"run {ctx.get('date', '?')}\n")
    print("## Machine limits (measured in the same run)\n")
    print("| benchmark | figure |\n|---|---|")
    for n, r in rows.items():
        if n.startswith("BM_fma_peak/"):
            print(f"| {n} | {r['FLOP/s'] / 1e9:.1f} GFLOP/s |")
        elif n.startswith("BM_triad/"):
            print(f"| {n} | {r['B/s'] / 1e9:.1f} GB/s |")
    print(f"\nFMA peak used for the fractions below: {peak / 1e9:.1f} GFLOP/s\n" if peak else "")

    # GEMM: one row per (kernel, dims), one column per arch.
    gemm = OrderedDict()
    for n, r in rows.items():
        kid, arch, dims = split(n)
        if kid.startswith("BM_gemm_"):
            gemm.setdefault((kid[3:], dims), {})[arch] = r["FLOP/s"] / 1e9
    archs = [a for a in ARCHS if any(a in v for v in gemm.values())]
    fennec = [a for a in archs if a not in ("openblas", "openblas_gemv", "eigen")]
    # Ratios for every SIMD table but the SSE2 baseline (the targets are quoted for AVX2+FMA).
    simd = [a for a in fennec if a not in ("ref", "sse2")] or fennec[-1:]
    print("## GEMM (GFLOP/s; dims are m x n x k)\n")
    head = ["kernel", "m x n x k"] + archs
    for a in simd:
        head += [f"{a} % peak", f"{a} / openblas"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for (kid, dims), v in gemm.items():
        cells = [kid, dims] + [fmt(v.get(a)) for a in archs]
        ob = max((x for x in (v.get("openblas"), v.get("openblas_gemv")) if x is not None), default=None)
        for a in simd:
            b = v.get(a)
            cells += [fmt(100 * b * 1e9 / peak if b and peak else None, 0) + "%", fmt(b / ob if b and ob else None, 2)]
        print("| " + " | ".join(cells) + " |")
    print("\n(`/ openblas` uses the faster of cblas_sgemm and cblas_sgemv for the batch-1 forward.)\n")

    print("## End to end (CPU time per call)\n")
    print("| benchmark | " + " | ".join(fennec) + " |\n|---|" + "---|" * len(fennec))
    e2e = OrderedDict()
    for n, r in rows.items():
        kid, arch, rest = split(n)
        if kid in ("BM_train_step", "BM_infer"):
            e2e.setdefault(f"{kid}/{rest}", {})[arch] = r
    for k, v in e2e.items():
        cells = []
        for a in fennec:
            r = v.get(a)
            cells.append("-" if r is None else f"{r['cpu_s'] * 1e6:.1f} us ({100 * r['peak']:.0f}% peak)")
        print(f"| {k} | " + " | ".join(cells) + " |")

    print("\n## Memory-bound kernels (CPU time per call; GB/s; fraction of the L3-sized triad)\n")
    print("| benchmark | " + " | ".join(fennec) + " |\n|---|" + "---|" * len(fennec))
    mem = OrderedDict()
    for n, r in rows.items():
        kid, arch, rest = split(n)
        if "B/s" in r and not kid.startswith("BM_triad"):
            mem.setdefault(f"{kid}/{rest}", {})[arch] = r
    for k, v in mem.items():
        cells = []
        for a in fennec:
            r = v.get(a)
            cells.append("-" if r is None else f"{r['cpu_s'] * 1e6:.1f} us, {r['B/s'] / 1e9:.0f} GB/s ({r['triad']:.2f})")
        print(f"| {k} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
