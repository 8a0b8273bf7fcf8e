# SPDX-License-Identifier: Apache-2.0
"""The 784-512-256-10 classifier as Fennec imports it: an nn.Sequential whose Linear layers sit at
indices 0, 2 and 4, so its state_dict names are 0.weight, 0.bias, 2.weight, 2.bias, 4.weight and
4.bias; the activations travel in the safetensors metadata ("fennec.activations")."""
import torch.nn as nn

# Metadata of the exported file: one activation per Linear layer, and the loss.
FENNEC_METADATA = {
    "format": "pt",
    "fennec.activations": "relu,relu,identity",
    "fennec.loss": "softmax_cross_entropy",
}


def make_mlp():
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
