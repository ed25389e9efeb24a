#!/usr/bin/python3
"""Writes digits-0to5.onnx, the "pretrained model" samples/FineTune imports: a PyTorch MLP (64 → 32 → ReLU → 6) trained on
the digits 0 to 5 only, exported with torch.onnx.export (opset 17, a dynamic batch).

Run with Debian's Python (python3-torch 1.13, python3-onnx), from this folder:

    /usr/bin/python3 make_pretrained.py

The split is the sample's: example i of ../Data/digits.csv.gz is a test example when i % 5 == 0, else a training one.
Pixels are scaled from 0-16 to 0-1.
"""
import gzip
import os

import onnx
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 32)
        self.fc2 = nn.Linear(32, 6)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def main():
    with gzip.open(os.path.join(HERE, "..", "Data", "digits.csv.gz"), "rt") as f:
        rows = [[int(v) for v in line.split(",")] for line in f if line.strip()]
    x = torch.tensor([r[:64] for r in rows], dtype=torch.float32) / 16
    y = torch.tensor([r[64] for r in rows])
    train = torch.tensor([i % 5 != 0 and rows[i][64] < 6 for i in range(len(rows))])
    test = torch.tensor([i % 5 == 0 and rows[i][64] < 6 for i in range(len(rows))])

    torch.manual_seed(0)
    model = Mlp()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for epoch in range(30):
        order = torch.randperm(int(train.sum()))
        xs, ys = x[train][order], y[train][order]
        for start in range(0, len(ys), 32):
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(xs[start:start + 32]), ys[start:start + 32]).backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        accuracy = (model(x[test]).argmax(1) == y[test]).float().mean().item()
    print(f"accuracy on the test digits 0-5: {accuracy:.4f} ({int(test.sum())} digits)")

    path = os.path.join(HERE, "digits-0to5.onnx")
    torch.onnx.export(model, torch.zeros(1, 64), path, opset_version=17, input_names=["pixels"], output_names=["scores"],
                      dynamic_axes={"pixels": {0: "batch"}, "scores": {0: "batch"}})
    onnx.checker.check_model(onnx.load(path))
    print(f"wrote {path}: {os.path.getsize(path)} bytes, nodes {[n.name for n in onnx.load(path).graph.node]}")


if __name__ == "__main__":
    main()
