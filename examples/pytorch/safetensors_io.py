# SPDX-License-Identifier: Apache-2.0
"""The safetensors format, written and read with the standard library and torch (the
`safetensors` package is not in Debian).

Layout (https://github.com/huggingface/safetensors): an unsigned 64-bit little-endian header
length N, N bytes of UTF-8 JSON {"__metadata__": {str: str}, name: {"dtype", "shape",
"data_offsets": [begin, end]}}, then the raw little-endian tensor data; offsets count from the end
of the header. The writer pads the header with spaces to a multiple of 8 bytes, as safetensors'
own serializer does.
"""
import json
import struct

import numpy as np
import torch


def save_safetensors(state_dict, path, metadata):
    """Writes the tensors of `state_dict` with `metadata` (str -> str) in __metadata__: int64 ones
    (BatchNorm1d's num_batches_tracked) as I64, as PyTorch keeps them, every other one as F32."""
    header = {"__metadata__": dict(metadata)}
    chunks, offset = [], 0
    for name, tensor in state_dict.items():
        values = tensor.detach().contiguous().cpu()
        if values.dtype == torch.int64:
            dtype, raw = "I64", values.numpy().astype("<i8").tobytes()
        else:
            dtype, raw = "F32", values.to(torch.float32).numpy().astype("<f4").tobytes()
        header[name] = {"dtype": dtype, "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for raw in chunks:
            f.write(raw)


def load_safetensors(path):
    """Returns (state_dict in file order, metadata dict): F32 tensors as float32, I64 ones as int64
    (num_batches_tracked). Other dtypes are refused."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError(f"{path}: {len(blob)} bytes, too short for a safetensors header")
    (n,) = struct.unpack("<Q", blob[:8])
    if 8 + n > len(blob):
        raise ValueError(f"{path}: header length {n} runs past the end of the file ({len(blob)} bytes)")
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    data = blob[8 + n:]
    state = {}
    for name, info in header.items():
        layout = {"F32": "<f4", "I64": "<i8"}.get(info["dtype"])
        if layout is None:
            raise ValueError(f"{path}: tensor {name!r} is {info['dtype']}, this reader takes F32 and I64 only")
        begin, end = info["data_offsets"]
        values = np.frombuffer(data[begin:end], dtype=layout).reshape(info["shape"])
        state[name] = torch.from_numpy(values.copy())
    return state, metadata
