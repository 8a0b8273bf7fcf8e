#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Redraw Fennec's figures from the CSV files its tools write, with matplotlib.

The tools' own SVG figures are the default and need no Python; this script is for people who
want to restyle a figure, put it in a paper (PDF) or change what it shows. Each input is
recognised by its header:

  initstudy-<case>.csv   fennec-initstudy --csv / --all   histograms per layer + per-layer chart
  initstudy-summary.csv  fennec-initstudy --all           activation std and gradient RMS, all cases
  optstudy*.csv          fennec-optstudy --csv            one panel per optimizer and function
  metrics CSV            a table with an `epoch` column   loss / accuracy per epoch, lr on a 2nd axis
  confusion text         rows "CLASS n0 n1 ..."           heat map of the confusion matrix

Usage: scripts/plot.py [--out DIR] [--format png|pdf|svg] FILE...
Writes DIR/<input name>.<format> for each input (DIR defaults to the input's folder). Exit
status: 0 done, 1 an input could not be read or recognised, 3 matplotlib is missing
(Debian: apt-get install python3-matplotlib).
"""
import argparse
import csv
import math
import os
import re
import sys

# Okabe-Ito: distinguishable with every common form of colour blindness (the tools use the same).
COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
DASHES = ["-", (0, (7, 3)), (0, (2, 2.5)), (0, (9, 3, 2, 3)), (0, (4, 4)), (0, (12, 3)), (0, (2, 2, 6, 2))]
MARKERS = ["o", "s", "^", "D", "v", "P", "X"]

# The 2-D test functions of fennec-optstudy (tools/fennec-optstudy/optstudy.cpp): formula, the
# view box, the start and the minimum, for the contours behind the trajectories.
FUNCTIONS = {
    "ravine": (lambda x, y: x * x / 100 + y * y, "f = x²/100 + y²", (-8, 8, -3, 3), 0.0, (0, 0)),
    "saddle": (lambda x, y: x * x + y ** 4 / 4 - y * y / 2, "f = x² + y⁴/4 - y²/2", (-2, 2, -1.6, 1.6),
               -0.25, (0, 1)),
    "rosenbrock": (lambda x, y: (1 - x) ** 2 + 100 * (y - x * x) ** 2, "f = (1-x)² + 100(y-x²)²",
                   (-2, 2, -1, 3), 0.0, (1, 1)),
}
PRETTY = {"sgd": "SGD", "momentum": "Momentum", "nesterov": "Nesterov", "adagrad": "AdaGrad",
          "rmsprop": "RMSProp", "adam": "Adam", "adamw": "AdamW"}


class InputError(Exception):
    pass


def style(i):
    return dict(color=COLOURS[i % len(COLOURS)], linestyle=DASHES[i % len(DASHES)],
                marker=MARKERS[i % len(MARKERS)])


def read_table(path):
    """Comment lines (# ...) and the rows of a CSV file with a header."""
    comments, lines = [], []
    with open(path, newline="", encoding="utf-8") as f:
        for line in f:
            (comments if line.startswith("#") else lines).append(line)
    rows = list(csv.DictReader(lines))
    return [c[1:].strip() for c in comments], rows


def number(row, key, path):
    try:
        return float(row[key])
    except (KeyError, TypeError, ValueError):
        raise InputError(f"{path}: column {key!r} missing or not a number in row {row}")


def plot_init_case(plt, path, comments, rows, out):
    layers = len(rows)
    bins = sorted((k for k in rows[0] if k.startswith("bin")), key=lambda k: int(k[3:]))
    if not bins:
        raise InputError(f"{path}: no bin columns")
    title = comments[0].split(";")[0] if comments else os.path.basename(path)
    skip_zeros = bool(comments) and "exact zeros left out" in comments[0]
    counts = [[number(r, b, path) for b in bins] for r in rows]
    # y is the fraction of the layer's values (width x batch, from the comment line), so the ReLU
    # zeros and the 0.1% tails left out of the bins still count.
    shape = re.search(r"(\d+) layers x (\d+) units, batch (\d+)", comments[0] if comments else "")
    if not shape:
        raise InputError(f"{path}: the first line does not say 'L layers x W units, batch B'")
    total = int(shape.group(2)) * int(shape.group(3))
    ymax = max(max(c) for c in counts) / total * 1.08
    cols = min(6, layers + 2)
    grid_rows = (layers + 2 + cols - 1) // cols
    fig = plt.figure(figsize=(2.6 * cols, 2.5 * grid_rows + 0.8))
    grid = fig.add_gridspec(grid_rows, cols)
    fig.suptitle(f"Activations per layer: {title}", fontweight="bold")
    gradients = any(number(r, "output_grad_rms", path) != 0 for r in rows)
    for l, (r, c) in enumerate(zip(rows, counts)):
        ax = fig.add_subplot(grid[l // cols, l % cols])
        lo, hi = number(r, "hist_lo", path), number(r, "hist_hi", path)
        zoomed = r.get("hist_zoomed", "0") == "1"
        width = (hi - lo) / len(c)
        ax.bar([lo + (i + 0.5) * width for i in range(len(c))], [v / total for v in c], width=width * 0.95,
               color=COLOURS[0])
        ax.set_xlim(lo, hi)
        ax.set_ylim(0, ymax)  # one y scale for every layer
        if zoomed:
            ax.set_facecolor("#FFF4E5")
        ax.set_title(f"layer {l + 1}{' (x zoomed)' if zoomed else ''}\n"
                     f"std {number(r, 'std', path):.2g}", fontsize=9, color="#A33" if zoomed else "black")
        ax.tick_params(labelsize=7)
        if l % cols == 0:
            ax.set_ylabel("fraction", fontsize=8)
    # The per-layer chart takes two slots after the last histogram, as in the tool's SVG.
    row, col = layers // cols, layers % cols
    if col > cols - 2:
        row, col = row + 1, 0
    ax = fig.add_subplot(grid[row, col:col + 2])
    xs = list(range(1, layers + 1))
    ax.semilogy(xs, [max(number(r, "std", path), 1e-300) for r in rows], label="std of activations", **style(0))
    if gradients:
        ax.semilogy(xs, [max(number(r, "output_grad_rms", path), 1e-300) for r in rows],
                    label="RMS of dL/da (gradient flow)", **style(1))
    ax.set_xlabel("layer")
    ax.set_title("per layer, log scale", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def plot_init_summary(plt, path, rows, out):
    cases = []
    for r in rows:
        if not cases or cases[-1][0] != r["case"]:
            cases.append((r["case"], f"{r['activation']}, {r['init']}", []))
        cases[-1][2].append(r)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5.2))
    fig.suptitle("Initialisation and activation: every case, layer by layer", fontweight="bold")
    for i, (_, label, rs) in enumerate(cases):
        xs = [int(r["layer"]) for r in rs]
        left.semilogy(xs, [max(number(r, "std", path), 1e-300) for r in rs], label=label, **style(i))
        grads = [number(r, "output_grad_rms", path) for r in rs]
        if any(g > 0 for g in grads):
            right.semilogy(xs, [max(g, 1e-300) for g in grads], label=label, **style(i))
    left.set_title("std of the activations (log scale)")
    right.set_title("gradient flow: RMS of dL/da (log scale)")
    for ax in (left, right):
        ax.set_xlabel("layer")
        ax.grid(True, which="major", color="#e2e2e2")
    right.set_xlabel("layer (backward runs from the last to the first)")
    handles, labels = left.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0.14, 1, 1))
    fig.savefig(out)
    plt.close(fig)


def plot_optstudy(plt, path, rows, out):
    runs = {}  # function -> optimizer -> rows, in file order
    for r in rows:
        runs.setdefault(r["function"], {}).setdefault(r["optimizer"], []).append(r)
    fns = list(runs)
    opts = []
    for f in fns:
        for o in runs[f]:
            if o not in opts:
                opts.append(o)
    fixed = len({r["lr"] for r in rows}) == 1
    fig, axes = plt.subplots(len(opts), len(fns), figsize=(4.3 * len(fns) + 0.6, 2.9 * len(opts) + 0.8),
                             squeeze=False)
    fig.suptitle("Optimizers at one learning rate" if fixed else
                 "Optimizers on 2-D test functions, each at its best learning rate", fontweight="bold")
    np = __import__("numpy")
    for k, f in enumerate(fns):
        known = FUNCTIONS.get(f)
        for i, o in enumerate(opts):
            ax = axes[i][k]
            rs = runs[f].get(o, [])
            if known:
                fn, formula, (x0, x1, y0, y1), fmin, (mx, my) = known
                gx, gy = np.meshgrid(np.linspace(x0, x1, 161), np.linspace(y0, y1, 161))
                gap = fn(gx, gy) - fmin
                top = math.log10(gap.max())
                ax.contour(gx, gy, gap, levels=np.logspace(top - 3.5, top, 12) * 0.98, colors="#c4c4c4",
                           linewidths=0.7)
                ax.plot([mx], [my], "kx", markersize=8, mew=2)
                ax.set_xlim(x0, x1)
                ax.set_ylim(y0, y1)
                if i == 0:
                    ax.set_title(f"{f}: {formula}\n", fontweight="bold", fontsize=11)
            if rs:
                xs, ys = [number(r, "x", path) for r in rs], [number(r, "y", path) for r in rs]
                st = style(i)
                ax.plot(xs, ys, color=st["color"], linewidth=1.6,
                        marker=st["marker"] if len(xs) <= 160 else None, markersize=3)
                ax.plot(xs[:1], ys[:1], "o", markerfacecolor="white", markeredgecolor="black", markersize=7)
                r0 = rs[0]
                done = (f"{r0['steps']} steps" if r0["reached"] == "1" else "diverged" if r0["diverged"] == "1"
                        else f"not reached in {r0['steps']} steps")
                ax.text(0, 1.02, PRETTY.get(o, o), transform=ax.transAxes, color=st["color"],
                        fontweight="bold", fontsize=10)
                ax.text(1, 1.02, f"lr {float(r0['lr']):.3g}: {done}", transform=ax.transAxes, ha="right",
                        fontsize=8)
            ax.tick_params(labelsize=7)
    fig.tight_layout(rect=(0, 0, 1, 0.975))
    fig.savefig(out)
    plt.close(fig)


def plot_metrics(plt, path, rows, out):
    # fennec-train --log: one row per epoch; every loss and accuracy column is drawn, lr beside.
    keys = list(rows[0])
    epochs = [number(r, "epoch", path) for r in rows]
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(11, 4.2))
    fig.suptitle("Training curves", fontweight="bold")
    # A column with no value in any row (test_* unless --eval-test-every-epoch) gets no legend entry.
    def filled(k):
        return any(r[k] for r in rows)
    for i, k in enumerate(k for k in keys if "loss" in k and filled(k)):
        loss_ax.plot(epochs, [number(r, k, path) if r[k] else math.nan for r in rows], label=k, **style(i))
    for i, k in enumerate(k for k in keys if "acc" in k and filled(k)):
        acc_ax.plot(epochs, [number(r, k, path) if r[k] else math.nan for r in rows], label=k, **style(i))
    loss_ax.set_title("loss")
    acc_ax.set_title("accuracy")
    for ax in (loss_ax, acc_ax):
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)  # epochs are whole numbers
        ax.legend(fontsize=8, loc="upper left")
    if "lr" in keys:
        lr_ax = loss_ax.twinx()
        lr_ax.plot(epochs, [number(r, "lr", path) for r in rows], color="#777777", linestyle=":")
        lr_ax.set_ylabel("learning rate (dotted)", color="#777777")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def read_confusion(path):
    names, counts = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            words = line.split()
            if len(words) < 2 or line.startswith("#"):
                continue
            try:
                values = [int(w) for w in words[1:]]
            except ValueError:
                continue  # a heading line
            names.append(words[0])
            counts.append(values)
    if not counts or any(len(c) != len(counts) for c in counts):
        raise InputError(f"{path}: not a square confusion matrix (rows 'CLASS n0 n1 ...')")
    return names, counts


def plot_confusion(plt, path, out):
    names, counts = read_confusion(path)
    fig, ax = plt.subplots(figsize=(max(4.5, 1.5 + 0.55 * len(names)), max(3.8, 1.0 + 0.5 * len(names))))
    image = ax.imshow(counts, cmap="cividis")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true class")
    peak = max(max(r) for r in counts) or 1
    for i, row in enumerate(counts):
        for j, v in enumerate(row):
            ax.text(j, i, str(v), ha="center", va="center", fontsize=7,
                    color="black" if v > 0.6 * peak else "white")
    fig.colorbar(image, ax=ax)
    ax.set_title("Confusion matrix", fontweight="bold")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def plot_one(plt, path, out):
    if not path.endswith(".csv"):
        return plot_confusion(plt, path, out)
    comments, rows = read_table(path)
    if not rows:
        raise InputError(f"{path}: no rows")
    header = list(rows[0])
    if header[:3] == ["layer", "mean", "std"]:
        return plot_init_case(plt, path, comments, rows, out)
    if header[:4] == ["case", "activation", "init", "layer"]:
        return plot_init_summary(plt, path, rows, out)
    if header[:2] == ["function", "optimizer"]:
        return plot_optstudy(plt, path, rows, out)
    if "epoch" in header:
        return plot_metrics(plt, path, rows, out)
    raise InputError(f"{path}: not a table written by a Fennec tool (header {','.join(header)})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--out", help="folder of the figures (default: beside each input)")
    parser.add_argument("--format", default="png", choices=["png", "pdf", "svg"])
    args = parser.parse_args()
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("plot.py: matplotlib is missing (Debian: apt-get install python3-matplotlib); "
              "the tools' own SVG figures need no Python", file=sys.stderr)
        return 3
    if args.out:
        os.makedirs(args.out, exist_ok=True)
    status = 0
    for path in args.files:
        stem = os.path.splitext(os.path.basename(path))[0]
        out = os.path.join(args.out or os.path.dirname(path) or ".", f"{stem}.{args.format}")
        try:
            plot_one(plt, path, out)
            print(f"figure: {out}")
        except (OSError, InputError, KeyError) as e:
            print(f"plot.py: error: {e}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
