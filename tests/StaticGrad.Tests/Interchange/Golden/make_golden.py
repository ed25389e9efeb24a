#!/usr/bin/env python3
"""Writes the golden safetensors files that SafetensorsGoldenTests load.

Run with Debian's PyTorch (python3-torch, 1.13): /usr/bin/python3 make_golden.py
There is no `safetensors` package here, so the file is written the way safetensors.torch.save_file writes it:
u64 little-endian header length, JSON header (__metadata__ {"format": "pt"} first, then each tensor's dtype, shape
and data_offsets), padded with spaces to a multiple of 8, then the raw little-endian bytes. Unlike our writer, the
data is laid out in reverse name order, so the loader cannot rely on the order of the parameters.
Beside each file, <name>.json records a batch of inputs and PyTorch's outputs for them.
"""
import json
import struct
from pathlib import Path

import torch
from torch import nn

HERE = Path(__file__).resolve().parent


def save_file(state_dict, path):
    dtypes = {torch.float32: "F32", torch.float64: "F64"}
    header = {"__metadata__": {"format": "pt"}}
    data = bytearray()
    for name in sorted(state_dict, reverse=True):
        tensor = state_dict[name].detach().contiguous()
        raw = tensor.numpy().astype(tensor.numpy().dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtypes[tensor.dtype], "shape": list(tensor.shape),
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + bytes(data))


def golden(name, model, inputs, dtype):
    model = model.to(dtype)
    inputs = inputs.to(dtype)
    with torch.no_grad():
        outputs = model(inputs)
    save_file(model.state_dict(), HERE / f"{name}.safetensors")
    (HERE / f"{name}.json").write_text(json.dumps({
        "model": repr(model),
        "torch": torch.__version__,
        "inputs": inputs.reshape(len(inputs), -1).tolist(),  # rows of C·H·W values for image models (NCHW)
        "outputs": outputs.tolist(),
    }, indent=1) + "\n")


torch.manual_seed(20261126)
golden("deep-float", nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 4), nn.Sigmoid(), nn.Linear(4, 3)),
       torch.randn(4, 6), torch.float32)
golden("relu-float", nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4, bias=False)),
       torch.randn(5, 8), torch.float32)
golden("regression-double", nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2, bias=False)),
       torch.randn(3, 3), torch.float64)
golden("cnn-float", nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(2 * 3 * 3, 3)),
       torch.randn(4, 1, 6, 6), torch.float32)
