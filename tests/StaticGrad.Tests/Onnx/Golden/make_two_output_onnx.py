#!/usr/bin/python3
"""Writes twohead.opset17.onnx, a PyTorch module with two outputs, and twohead.opset17.golden.json for FromOnnxTwoOutputTests.

Run with Debian's PyTorch (python3-torch 1.13), from the repository root:

    /usr/bin/python3 tests/StaticGrad.Tests/Onnx/Golden/make_two_output_onnx.py

TwoHead: h = relu(trunk(x)) (Linear 6→10); returns (classes(h), value(h)) (Linear 10→3 and 10→1), exported with
torch.onnx.export (eval mode, opset 17, output_names ["scores", "value"], a dynamic batch axis on the input and both
outputs). The JSON holds a batch of 8 inputs, labels and targets, both eval outputs, and the losses of 5 plain SGD steps
(lr 0.1) on F.cross_entropy(scores, labels) + F.mse_loss(value, targets), each the forward of the batch before its
update, with the float64 run's largest loss difference beside them (the script exits 1 above 1e-6 relative, or when a
ReLU input of the float64 run lies within 1e-4 of 0, where float32 rounding could flip it).
"""
import json
import os
import sys

import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
BATCH, STEPS, LR = 8, 5, 0.1

torch.set_num_threads(1)


class TwoHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Linear(6, 10)
        self.classes = nn.Linear(10, 3)
        self.value = nn.Linear(10, 1)

    def forward(self, x):
        h = torch.relu(self.trunk(x))
        return self.classes(h), self.value(h)


def run(state, x, labels, targets, dtype):
    model = TwoHead().to(dtype)
    model.load_state_dict(state)
    model.to(dtype)
    x, targets = x.to(dtype), targets.to(dtype)
    model.eval()
    with torch.no_grad():
        scores, value = model(x)
        margin = model.trunk(x).abs().min().item()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    losses = []
    for _ in range(STEPS):
        optimizer.zero_grad()
        s, v = model(x)
        loss = F.cross_entropy(s, labels) + F.mse_loss(v, targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        with torch.no_grad():
            margin = min(margin, model.trunk(x).abs().min().item())
    return scores, value, losses, margin


def main():
    torch.manual_seed(5)
    model = TwoHead().eval()
    path = os.path.join(HERE, "twohead.opset17.onnx")
    torch.onnx.export(model, torch.randn(1, 6), path, opset_version=17, input_names=["input"], output_names=["scores", "value"],
                      dynamic_axes={"input": {0: "batch"}, "scores": {0: "batch"}, "value": {0: "batch"}}, do_constant_folding=True)
    g = torch.Generator().manual_seed(6)
    x = torch.randn(BATCH, 6, generator=g)
    labels = torch.randint(0, 3, (BATCH,), generator=g)
    targets = torch.randn(BATCH, 1, generator=g)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    scores, value, losses, _ = run(state, x, labels, targets, torch.float32)
    _, _, losses64, margin = run(state, x, labels, targets, torch.float64)
    difference = max(abs(a - b) / abs(b) for a, b in zip(losses, losses64))
    print(f"twohead: {os.path.getsize(path)} bytes, losses {losses[0]:.6f} -> {losses[-1]:.6f}, "
          f"float32 vs float64 {difference:.2e}, ReLU margin {margin:.2e}")
    if difference > 1e-6 or margin < 1e-4:
        sys.exit(1)
    record = {
        "batch": BATCH, "learning_rate": LR, "input": x.double().ravel().tolist(), "labels": labels.tolist(),
        "targets": targets.double().ravel().tolist(), "eval_scores": scores.double().ravel().tolist(),
        "eval_values": value.double().ravel().tolist(), "losses": losses, "float64_losses": losses64,
        "float32_vs_float64_loss_difference": difference, "relu_margin": margin,
    }
    with open(os.path.join(HERE, "twohead.opset17.golden.json"), "w") as f:
        json.dump(record, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
