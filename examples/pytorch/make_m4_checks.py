#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the check file of the Cortex-M4 firmware fennec_m4_imported: the first --count images
of an IDX file and the host's logits for them, which the firmware must reproduce.

Layout, little-endian: b"FM4C", u32 count, u32 inputs, u32 outputs, count x inputs pixels (u8),
count x outputs float32 logits.

  make_m4_checks.py IMAGES.idx HOST_LOGITS.f32 OUT.bin [--count 16]
"""
import argparse
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fashion_mnist  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("images")
    ap.add_argument("logits", help="the host's logits of every image (N x outputs float32)")
    ap.add_argument("out")
    ap.add_argument("--count", type=int, default=16)
    args = ap.parse_args()
    images = fashion_mnist.read_idx(args.images)
    images = images.reshape(images.shape[0], -1)
    logits = np.fromfile(args.logits, dtype="<f4")
    if logits.size % images.shape[0]:
        sys.exit(f"make_m4_checks: {logits.size} logits do not split over {images.shape[0]} images")
    logits = logits.reshape(images.shape[0], -1)
    n = min(args.count, images.shape[0])
    with open(args.out, "wb") as f:
        f.write(b"FM4C" + struct.pack("<III", n, images.shape[1], logits.shape[1]))
        f.write(np.ascontiguousarray(images[:n], dtype=np.uint8).tobytes())
        f.write(logits[:n].astype("<f4").tobytes())
    print(f"wrote {args.out}: {n} images of {images.shape[1]} pixels and their {logits.shape[1]} host logits")


if __name__ == "__main__":
    main()
