#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The instruction-count tables of bench/README.md and platforms/README.md, from count.py's JSON.

  count.py --config build/aarch64/bench/qemu/count_config.json --json aarch64.json
  count.py --config build/armv7/bench/qemu/count_config.json --json armv7.json
  count.py --config build/cortex-m4/platforms/cortex-m4/count_config.json --json m4.json
  readme_tables.py --aarch64 aarch64.json --armv7 armv7.json --m4 m4.json
"""
import argparse
import json

BENCH_ROWS = ("gemm_nt_f32/fwd/784-512", "gemm_tn_f32/dW/784-512", "gemm_nn_f32/dX/512-256",
              "gemm_nt_f32/fwd/256-10/b64", "sgd", "momentum", "adam_step", "rmsprop",
              "bias_act_fwd_f32/relu", "act_bwd_f32/relu", "col_sum", "sum_sq", "infer", "train")


def load(path):
    with open(path) as f:
        return {r["name"]: r for r in json.load(f)["results"]}


def linux_tables(ra, rb):
    print("bench/README.md:\n")
    print("| case | aarch64: instructions / call | per MAC or elem | FMA share | armv7: instructions / call | per MAC or elem | FMA share |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for n in ra:
        if not n.startswith(BENCH_ROWS):
            continue
        x, y = ra[n], rb[n]
        print(f"| `{n}` | {x['call']['insns']:,.0f} | {x['per_unit']:.3f} | {100 * x['fma_share']:.0f}% | "
              f"{y['call']['insns']:,.0f} | {y['per_unit']:.3f} | {100 * y['fma_share']:.0f}% |")
    print("\nplatforms/README.md:\n")
    print("| target | inference, batch 1 | inference, batch 64 | Adam train step, batch 16 | Adam train step, batch 64 | FMA share of the batch-64 step |")
    print("|---|---:|---:|---:|---:|---:|")
    step = "train_step/adam/784-512-256-10/b"
    for name, x in (("aarch64, `neon64` (`qemu-aarch64 -cpu cortex-a53`)", ra),
                    ("armv7, `neon` + VFPv4 (`qemu-arm -cpu cortex-a7`)", rb)):
        print(f"| {name} | {x['infer/784-512-256-10/b1']['per_unit']:.3f} | {x['infer/784-512-256-10/b64']['per_unit']:.3f} | "
              f"{x[step + '16']['per_unit']:.3f} | {x[step + '64']['per_unit']:.3f} | {100 * x[step + '64']['fma_share']:.0f}% |")


def m4_tables(r):
    def agg(t, form, layers, b):
        cases = [r[f"{t}/{form}/{l}/{b}"] for l in layers]
        ins = sum(c["call"]["insns"] for c in cases)
        mac = sum(c["work"] for c in cases)
        return ins / mac, sum(c["call"]["cycles"] for c in cases) / mac, sum(c["call"]["fma"] for c in cases) / ins

    print("\nplatforms/README.md, Cortex-M4F (instructions per MAC; est. cycles per MAC):\n")
    print("| kernel | batch | plain | Cortex-M4F | FMA share (M4F) |")
    print("|---|---:|---:|---:|---:|")
    for form, layers, label in (("gemm_nt_f32/fwd", ["196-64", "64-32", "32-10"], "dense forward (`gemm_nt`, with bias + ReLU)"),
                                ("gemm_tn_f32/dW", ["196-64", "64-32", "32-10"], "dW (`gemm_tn`)"),
                                ("gemm_nn_f32/dX", ["64-32", "32-10"], "dX (`gemm_nn`, all layers but the first)")):
        for b in ("b1", "b16"):
            p, q = agg("plain", form, layers, b), agg("m4", form, layers, b)
            print(f"| {label} | {b[1:]} | {p[0]:.2f}; {p[1]:.1f} | **{q[0]:.2f}**; {q[1]:.1f} | {100 * q[2]:.0f}% |")
    for n, label in (("adam_step_f32/n15018", "Adam update (per parameter, 15,018)"),
                     ("bias_act_fwd_f32/relu/16x64", "bias + ReLU (per element)"),
                     ("act_bwd_f32/relu/16x64", "ReLU backward (per element)")):
        p, q = r["plain/" + n], r["m4/" + n]
        print(f"| {label} | - | {p['per_unit']:.1f}; {p['cycles_per_unit']:.0f} | {q['per_unit']:.1f}; {q['cycles_per_unit']:.0f} | - |")
    print("\nper layer:\n")
    print("| case | plain: instructions / call | per MAC or elem | Cortex-M4F: instructions / call | per MAC or elem | FMA share | multi-load share | est. cycles / call |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for n in r:
        if not n.startswith("m4/"):
            continue
        p, q = r["plain/" + n[3:]], r[n]
        print(f"| `{n[3:]}` | {p['call']['insns']:,.0f} | {p['per_unit']:.2f} | {q['call']['insns']:,.0f} | {q['per_unit']:.2f} | "
              f"{100 * q['fma_share']:.0f}% | {100 * q['ldm_share']:.0f}% | {q['call']['cycles']:,.0f} |")
    for t in ("plain", "m4"):
        s = r[f"{t}/train_kernels/196-64-32-10/b16"]
        print(f"\n{t}: training step kernels, batch 16: {s['call']['insns']:,.0f} instructions, est. {s['call']['cycles']:,.0f} "
              f"cycles = est. {s['call']['cycles'] / 16:,.0f} cycles ({s['call']['insns'] / 16:,.0f} instructions) per sample; "
              f"Adam {100 * r[t + '/adam_step_f32/n15018']['call']['cycles'] / s['call']['cycles']:.0f}% of the cycles")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--aarch64")
    ap.add_argument("--armv7")
    ap.add_argument("--m4")
    a = ap.parse_args()
    if a.aarch64 and a.armv7:
        linux_tables(load(a.aarch64), load(a.armv7))
    if a.m4:
        m4_tables(load(a.m4))


if __name__ == "__main__":
    main()
