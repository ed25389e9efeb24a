#!/usr/bin/env python3
"""Writes bn-state.safetensors, the golden state_dict that ModelStateTests loads: parameters, float buffers and an
int64 counter, as PyTorch's state_dict() holds them.

Run with Debian's PyTorch (python3-torch, 1.13): /usr/bin/python3 make_state_golden.py
As in make_golden.py, there is no `safetensors` package here, so the file is written the way
safetensors.torch.save_file writes it (u64 little-endian header length, JSON header padded with spaces to a multiple
of 8, raw little-endian bytes), with the data in reverse name order. The model is
nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)) after one forward pass in training mode, so
1.num_batches_tracked is 1 (I64, shape []) and the running statistics are not their initial 0 and 1.
Beside it, bn-state.json records the values in the order of the test's flat arrays.
"""
import json
import struct
from pathlib import Path

import torch
from torch import nn

HERE = Path(__file__).resolve().parent


def save_file(state_dict, path):
    dtypes = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}
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


torch.manual_seed(20261204)
model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
with torch.no_grad():
    model[1].weight.uniform_(0.5, 1.5)
    model[1].bias.uniform_(-0.5, 0.5)
model.train()
with torch.no_grad():
    model(torch.randn(4, 1, 5, 5) * 2 + 0.5)
state = model.state_dict()
assert state["1.num_batches_tracked"].item() == 1 and state["1.num_batches_tracked"].shape == ()
save_file(state, HERE / "bn-state.safetensors")


def flat(*names):
    return [v for n in names for v in state[n].reshape(-1).tolist()]


(HERE / "bn-state.json").write_text(json.dumps({
    "model": repr(model),
    "torch": torch.__version__,
    "parameters": flat("0.weight", "0.bias", "1.weight", "1.bias"),
    "buffers": flat("1.running_mean", "1.running_var"),
    "counters": flat("1.num_batches_tracked"),
}, indent=1) + "\n")
