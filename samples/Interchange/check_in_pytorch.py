#!/usr/bin/env python3
"""Checks the Interchange sample's files with PyTorch and ONNX's own tools (Debian: python3-torch, python3-onnx).

    dotnet run --project samples/Interchange -c Release
    /usr/bin/python3 samples/Interchange/check_in_pytorch.py [interchange-output]

1. Reads digits-mlp.safetensors with a few lines of Python (no safetensors package here), loads it with
   load_state_dict into the equivalent nn.Sequential, and compares its outputs on the test split with StaticGrad's.
2. Runs onnx.checker (full check, with shape inference) on digits-mlp.onnx and on digits-cnn-float.onnx (the double CNN
   exported with float tensors) and prints their IR version and opset.
"""
import json
import struct
import sys
from pathlib import Path

import torch
from torch import nn

folder = Path(sys.argv[1] if len(sys.argv) > 1 else "interchange-output")


def load_safetensors(path):
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    metadata = header.pop("__metadata__", {})
    data = raw[8 + length:]
    dtypes = {"F32": torch.float32, "F64": torch.float64}
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        tensors[name] = torch.frombuffer(bytearray(data[begin:end]), dtype=dtypes[info["dtype"]]).reshape(info["shape"])
    return tensors, metadata


state, metadata = load_safetensors(folder / "digits-mlp.safetensors")
record = json.loads((folder / "digits-test.json").read_text())
print("safetensors metadata:", metadata)
model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
model.load_state_dict(state, strict=True)
inputs = torch.tensor(record["Inputs"], dtype=torch.float32).reshape(record["Rows"], record["InputSize"])
ours = torch.tensor(record["Scores"], dtype=torch.float32).reshape(record["Rows"], record["OutputSize"])
with torch.no_grad():
    theirs = model(inputs)
difference = (theirs - ours).abs().max().item()
same = (theirs.argmax(1) == ours.argmax(1)).sum().item()
accuracy = (theirs.argmax(1) == torch.tensor(record["Labels"])).float().mean().item()
print(f"PyTorch {torch.__version__}: largest |score difference| {difference:.3g}, same prediction {same}/{record['Rows']}, "
      f"test accuracy {accuracy:.2%}")
ok = difference < 1e-4 and same == record["Rows"]

try:
    import onnx
    for name in ["digits-mlp.onnx", "digits-cnn-float.onnx"]:
        onnx_model = onnx.load(str(folder / name))
        onnx.checker.check_model(onnx_model, full_check=True)
        print(f"onnx {onnx.__version__}: checker passed on {name} (IR version {onnx_model.ir_version}, "
              f"opset {[(o.domain or 'ai.onnx', o.version) for o in onnx_model.opset_import]})")
except ImportError:
    print("python3-onnx is not installed: skipped the ONNX checker")

print("OK" if ok else "MISMATCH")
sys.exit(0 if ok else 1)
