#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The way back: loads the model Fennec fine-tuned (safetensors) into the PyTorch nn.Sequential
with load_state_dict(strict=True), runs it on the images, and compares its logits with Fennec's
own logits of the same model (check_handoff's checks: same predictions, logits within --tol).
With --original, also checks that the layers Fennec kept frozen came back bit for bit.

  load_back.py FINETUNED.safetensors IMAGES.idx LABELS.idx FENNEC_LOGITS.f32
               [--original MODEL.safetensors --frozen K] [--tol 1e-4]
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_handoff  # noqa: E402
import fashion_mnist  # noqa: E402
from mlp import FENNEC_METADATA, make_mlp  # noqa: E402
from safetensors_io import load_safetensors  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("finetuned")
    ap.add_argument("images")
    ap.add_argument("labels")
    ap.add_argument("fennec_logits")
    ap.add_argument("--original", help="the safetensors PyTorch exported before fine-tuning")
    ap.add_argument("--frozen", type=int, default=2, help="Linear layers Fennec kept frozen (default 2)")
    ap.add_argument("--tol", type=float, default=1e-4)
    args = ap.parse_args()
    torch.set_num_threads(1)

    state, metadata = load_safetensors(args.finetuned)
    if metadata.get("fennec.activations") != FENNEC_METADATA["fennec.activations"]:
        sys.exit(f"load_back: {args.finetuned} has activations {metadata.get('fennec.activations')!r}, "
                 f"the PyTorch model is {FENNEC_METADATA['fennec.activations']!r}")
    model = make_mlp()
    model.load_state_dict(state, strict=True)
    print(f"load_state_dict(strict=True): {len(state)} tensors ({', '.join(state)}) loaded")
    ok = True
    if args.original:
        original, _ = load_safetensors(args.original)
        linear = [name for name in original if name.endswith(".weight")]
        for name in linear[:args.frozen]:
            for tensor in (name, name[:-len("weight")] + "bias"):
                same = torch.equal(original[tensor], state[tensor])
                ok &= same
                print(f"frozen {tensor}: {'bit for bit as exported by PyTorch' if same else 'CHANGED'}")
        for name in linear[args.frozen:]:
            print(f"trained {name}: max change {float((original[name] - state[name]).abs().max()):.3g}")

    labels = fashion_mnist.read_idx(args.labels).astype(np.int64)
    inputs = fashion_mnist.to_inputs(fashion_mnist.read_idx(args.images))
    model.eval()
    with torch.no_grad():
        torch_logits = torch.cat([model(inputs[i:i + 1000]) for i in range(0, inputs.shape[0], 1000)]).numpy()
    fennec_logits = check_handoff.read_logits(args.fennec_logits, labels.shape[0])
    ok &= check_handoff.compare(fennec_logits, torch_logits, labels, args.tol, ["Fennec (fine-tuned)", "PyTorch (loaded back)"])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
