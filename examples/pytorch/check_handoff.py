#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Compares two logit files of the same images (N x 10 float32, little-endian, row-major) against
the labels: the two must classify every image alike (so the accuracies are equal to the sample)
and no logit may differ by more than --tol. Prints both accuracies and the largest difference;
exit status 1 when a check fails.

  check_handoff.py REFERENCE.f32 CANDIDATE.f32 LABELS.idx [--tol 1e-4] [--names PyTorch Fennec]
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fashion_mnist  # noqa: E402


def read_logits(path, count):
    values = np.fromfile(path, dtype="<f4")
    if values.size % count:
        raise ValueError(f"{path}: {values.size} floats do not split into {count} rows")
    return values.reshape(count, -1)


def compare(reference, candidate, labels, tol, names):
    ref_pred, cand_pred = reference.argmax(axis=1), candidate.argmax(axis=1)
    ref_correct, cand_correct = int((ref_pred == labels).sum()), int((cand_pred == labels).sum())
    disagree = int((ref_pred != cand_pred).sum())
    diff = float(np.abs(reference.astype(np.float64) - candidate.astype(np.float64)).max())
    n = labels.shape[0]
    print(f"{names[0]}: accuracy {ref_correct / n:.4f} ({ref_correct}/{n}); "
          f"{names[1]}: accuracy {cand_correct / n:.4f} ({cand_correct}/{n})")
    print(f"predictions that differ: {disagree} of {n}; max |logit difference| over {reference.size} "
          f"logits: {diff:.3g} (tolerance {tol:g})")
    ok = ref_correct == cand_correct and disagree == 0 and diff <= tol
    print("hand-off OK" if ok else "hand-off FAILED")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("reference")
    ap.add_argument("candidate")
    ap.add_argument("labels", help="IDX label file of the images (plain or .gz)")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--names", nargs=2, default=["PyTorch", "Fennec"])
    args = ap.parse_args()
    labels = fashion_mnist.read_idx(args.labels).astype(np.int64)
    reference = read_logits(args.reference, labels.shape[0])
    candidate = read_logits(args.candidate, labels.shape[0])
    if reference.shape != candidate.shape:
        sys.exit(f"check_handoff: {args.reference} is {reference.shape}, {args.candidate} {candidate.shape}")
    sys.exit(0 if compare(reference, candidate, labels, args.tol, args.names) else 1)


if __name__ == "__main__":
    main()
