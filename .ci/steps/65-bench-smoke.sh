#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark smoke run: every benchmark of fennec_bench runs once at a tiny --benchmark_min_time,
# so a benchmark that crashes, reports an error (SkipWithError) or silently stops registering
# fails CI. Timings are not asserted (a shared CI machine). Uses the release build of step 10.
set -euo pipefail
cmake --build --preset release --target fennec_bench
bench=build/release/bench/fennec_bench
out=build/release/bench-smoke
mkdir -p "$out"
"$bench" --benchmark_list_tests > "$out/list.txt"
"$bench" --benchmark_min_time=0.001 --benchmark_out="$out/results.json" --benchmark_out_format=json \
  > "$out/console.txt"
head -n 2 "$out/console.txt"  # the best ISA, the measured peaks, the baselines found
python3 - "$out/list.txt" "$out/results.json" <<'PY'
import json, sys
listed = [l.strip() for l in open(sys.argv[1]) if l.startswith("BM_")]
runs = json.load(open(sys.argv[2]))["benchmarks"]
ran = [b["name"] for b in runs if b.get("run_type", "iteration") == "iteration"]
errors = [f'{b["name"]}: {b.get("error_message", "")}' for b in runs if b.get("error_occurred")]
missing = sorted(set(listed) - set(ran))
print(f"benchmark smoke run: {len(listed)} listed, {len(ran)} ran, {len(errors)} reported an error")
for e in errors:
    print("  error:", e)
for m in missing:
    print("  listed but did not run:", m)
sys.exit(1 if not listed or errors or missing else 0)
PY
