#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""scripts/plot.py redraws every figure from the tables the tools write.

Runs fennec-initstudy --all and fennec-optstudy (tuned and --chapter) on small settings, then
plot.py on their CSVs, and checks that each figure is a real image; also a training-metrics
table and a confusion matrix in the formats plot.py reads, SVG output, and that a table no tool
wrote is refused. Exit 77 (CTest's skip) when matplotlib is not installed.

usage: check_plot_py.py PLOT_PY INITSTUDY_EXE OPTSTUDY_EXE WORK_DIR
"""
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET


def run(cmd, expect=0):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != expect:
        sys.exit(f"FAIL: {' '.join(cmd)} exited {r.returncode}, expected {expect}:\n{r.stdout}")
    return r.stdout


def main():
    plot_py, initstudy, optstudy, work = sys.argv[1:5]
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("SKIP: python3-matplotlib is not installed (scripts/install-deps.sh installs it); "
              "plot.py cannot be checked")
        return 77
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    run([initstudy, "--all", "--layers", "3", "--width", "30", "--batch", "40", "--runs", "0", "--out", work])
    run([optstudy, "--function", "saddle", "--max-steps", "300", "--csv", os.path.join(work, "optstudy.csv")])
    run([optstudy, "--chapter", "--csv", os.path.join(work, "optstudy-chapter.csv")])
    with open(os.path.join(work, "metrics.csv"), "w") as f:
        f.write("epoch,step,lr,train_loss,train_acc,val_loss,val_acc\n"
                "1,100,0.001,0.9,0.7,0.8,0.72\n2,200,0.0005,0.6,0.8,0.62,0.79\n3,300,0.00025,0.5,0.83,0.6,0.8\n")
    with open(os.path.join(work, "confusion.txt"), "w") as f:
        f.write("# true class, then the counts predicted as each class\n"
                "cat 8 1 1\ndog 2 7 1\nbird 0 1 9\n")
    with open(os.path.join(work, "other.csv"), "w") as f:
        f.write("a,b\n1,2\n")
    tables = sorted(n for n in os.listdir(work) if n.endswith(".csv") and n != "other.csv")
    expected = {"initstudy-summary.csv", "initstudy-relu-normal0.01.csv", "initstudy-sigmoid-xavier.csv",
                "optstudy.csv", "optstudy-chapter.csv", "metrics.csv"}
    missing = expected - set(tables)
    if missing:
        sys.exit(f"FAIL: the tools did not write {sorted(missing)}")
    figures = os.path.join(work, "png")
    inputs = [os.path.join(work, n) for n in tables] + [os.path.join(work, "confusion.txt")]
    out = run([sys.executable, plot_py, "--out", figures] + inputs)
    for path in inputs:
        png = os.path.join(figures, os.path.splitext(os.path.basename(path))[0] + ".png")
        if f"figure: {png}" not in out:
            sys.exit(f"FAIL: plot.py did not report {png}:\n{out}")
        with open(png, "rb") as f:
            data = f.read()
        if not data.startswith(b"\x89PNG\r\n\x1a\n") or len(data) < 10000:
            sys.exit(f"FAIL: {png} is not a drawn PNG ({len(data)} bytes)")
    svg_dir = os.path.join(work, "svg")
    run([sys.executable, plot_py, "--format", "svg", "--out", svg_dir, os.path.join(work, "initstudy-summary.csv")])
    root = ET.parse(os.path.join(svg_dir, "initstudy-summary.svg")).getroot()
    if not root.tag.endswith("svg"):
        sys.exit("FAIL: --format svg did not write an SVG")
    refused = run([sys.executable, plot_py, "--out", figures, os.path.join(work, "other.csv")], expect=1)
    if "not a table written by a Fennec tool" not in refused:
        sys.exit(f"FAIL: a foreign table was not refused clearly:\n{refused}")
    print(f"plot.py drew {len(inputs)} figures from the tools' tables")
    return 0


if __name__ == "__main__":
    sys.exit(main())
