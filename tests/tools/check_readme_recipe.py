#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Runs the README's plain-torch safetensors writer and its fennec-convert command.

usage: check_readme_recipe.py README.md FENNEC_CONVERT FIXTURES_DIR WORK_DIR

The writer (the python block after the readme-torch-writer marker) is executed as written, then
given the tiny MLP of tests/io/fixtures/make_fixture.py twice: with numpy-backed stand-ins for
the torch tensors (numpy only, as CI has it: the writer touches nothing but state_dict(),
numel(), detach(), float(), flatten(), tolist() and shape), and with real torch when it is
installed (Debian python3-torch). Each file must be valid input to `fennec-convert`, and the
Fennec model file it gives must be byte-identical to the one converted from the numpy-written
fixture tiny_mlp_f32.safetensors. Exit 0 on success.
"""
import os
import re
import subprocess
import sys
import types

import numpy as np


def readme_writer(readme):
    text = open(readme, encoding="utf-8").read()
    m = re.search(r"<!-- readme-torch-writer[^>]*-->\s*```python\n(.*?)```", text, re.S)
    if not m:
        sys.exit("README: no python block after the readme-torch-writer marker")
    return m.group(1)


class NumpyTensor:
    """The part of torch.Tensor the README's writer uses."""

    def __init__(self, a):
        self.a = np.asarray(a)
        self.shape = self.a.shape

    def numel(self):
        return self.a.size

    def detach(self):
        return self

    def float(self):
        return NumpyTensor(self.a.astype(np.float32))

    def flatten(self):
        return NumpyTensor(self.a.reshape(-1))

    def tolist(self):
        return self.a.tolist()


class Module:
    def __init__(self, sd):
        self.sd = sd

    def state_dict(self):
        return self.sd


def convert(exe, src, dst):
    r = subprocess.run([exe, src, dst, "--activations", "relu,tanh,identity", "--loss", "mse"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("fennec-convert %s failed (%d): %s%s" % (src, r.returncode, r.stdout, r.stderr))
    return open(dst, "rb").read()


def main(readme, exe, fixtures, work):
    os.makedirs(work, exist_ok=True)
    sys.path.insert(0, fixtures)
    import make_fixture  # the numpy weights of the fixtures

    weights = make_fixture.tensors()
    expected = convert(exe, os.path.join(fixtures, "tiny_mlp_f32.safetensors"),
                       os.path.join(work, "fixture.fennec"))
    code = readme_writer(readme)
    try:
        import torch  # noqa: F401
        have_torch = True
    except ImportError:
        have_torch = False
        sys.modules["torch"] = types.ModuleType("torch")  # the block imports torch; unused here
    scope = {}
    exec(compile(code, "README.md (readme-torch-writer)", "exec"), scope)
    save = scope["save_safetensors"]

    runs = [("numpy", Module({k: NumpyTensor(v) for k, v in weights.items()}))]
    if have_torch:
        m = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 6),
                                torch.nn.Tanh(), torch.nn.Linear(6, 3))
        m.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
        runs.append(("torch " + torch.__version__, m))
    for tag, model in runs:
        path = os.path.join(work, "readme_%s.safetensors" % tag.split()[0])
        save(model, path)
        got = convert(exe, path, path.replace(".safetensors", ".fennec"))
        if got != expected:
            sys.exit("%s: the README writer's file converts to a different model" % tag)
        print("README writer with %s: fennec-convert gives the fixture's model" % tag)
    if not have_torch:
        print("torch not installed: the README writer ran on numpy stand-ins only")


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(*sys.argv[1:])
