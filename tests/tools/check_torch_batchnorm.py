#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""PyTorch takes back what fennec-convert writes for a BatchNorm1d/Dropout network.

usage: check_torch_batchnorm.py FENNEC_CONVERT EXAMPLES_PYTORCH_DIR WORK_DIR

nn.Sequential(Linear(6, 5), BatchNorm1d(5), ReLU(), Dropout(0.2), Linear(5, 3)), after a few
training-mode forwards, is written by examples/pytorch/safetensors_io.py (num_batches_tracked as
I64) with fennec.activations and fennec.dropout metadata. fennec-convert turns it into
safetensors again, directly and through a Fennec model file: load_state_dict(strict=True) of the
same module must take both, with every tensor bit for bit (num_batches_tracked only on the direct
path: the model file keeps no count). With --fold-batchnorm the file must load, strict, into
nn.Sequential(Linear(6, 5), ReLU(), Linear(5, 3)) and give the eval outputs within 1e-5 relative.
Exit 0 on success, 77 (skipped) without torch.
"""
import os
import subprocess
import sys

try:
    import torch
except ImportError:
    print("python3-torch is not installed: skipped")
    sys.exit(77)


def main():
    convert, examples, work = sys.argv[1:4]
    sys.path.insert(0, examples)
    from safetensors_io import load_safetensors, save_safetensors

    os.makedirs(work, exist_ok=True)
    torch.manual_seed(5)

    def network():
        return torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.BatchNorm1d(5), torch.nn.ReLU(),
                                   torch.nn.Dropout(0.2), torch.nn.Linear(5, 3))

    net = network()
    with torch.no_grad():
        net[1].weight.uniform_(0.5, 1.5)
        net[1].bias.uniform_(-0.5, 0.5)
        net.train()
        for _ in range(5):
            net(torch.randn(8, 6) * 2.0 - 0.5)
        net.eval()
        x = torch.randn(4, 6)
        want = net(x)
    src = os.path.join(work, "torch_bn.safetensors")
    save_safetensors(net.state_dict(), src, {"fennec.activations": "relu,identity", "fennec.dropout": "0.2,0"})

    def run(*args):
        r = subprocess.run([convert, *args], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("fennec-convert %s failed: %s%s" % (" ".join(args), r.stdout, r.stderr))

    direct, model, back, folded = (os.path.join(work, n) for n in
                                   ("direct.safetensors", "bn.fennec", "back.safetensors", "folded.safetensors"))
    run(src, direct)
    run(src, model)
    run(model, back)
    run("--fold-batchnorm", src, folded)

    original = net.state_dict()
    for path, with_count in ((direct, True), (back, False)):
        state, meta = load_safetensors(path)
        other = network()
        other.load_state_dict(state, strict=True)
        for name, value in original.items():
            if name.endswith("num_batches_tracked"):
                expect = value if with_count else torch.zeros_like(value)
                if state[name].dtype != torch.int64 or not torch.equal(state[name], expect):
                    sys.exit("%s: %s is %s, expected %s" % (path, name, state[name], expect))
            elif not torch.equal(state[name], value):
                sys.exit("%s: %s differs" % (path, name))
        if meta.get("fennec.batchnorm") != "1e-05:0.1,-" or meta.get("fennec.dropout") != "0.2,0":
            sys.exit("%s: metadata %s" % (path, meta))
        other.eval()
        with torch.no_grad():
            if not torch.equal(other(x), want):
                sys.exit("%s: eval outputs differ" % path)

    state, _ = load_safetensors(folded)
    plain = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))
    plain.load_state_dict(state, strict=True)
    with torch.no_grad():
        got = plain(x)
    if not torch.all((got - want).abs() <= 1e-6 + 1e-5 * want.abs()):
        sys.exit("folded outputs %s, expected %s" % (got, want))
    print("PyTorch takes the direct, model-file and folded files back (strict)")


if __name__ == "__main__":
    main()
