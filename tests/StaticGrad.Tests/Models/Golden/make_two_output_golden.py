#!/usr/bin/env python3
"""Writes the golden training run of a model with two outputs (TwoHeadNet), which TwoOutputModelTests replays.

Run with Debian's PyTorch (python3-torch, 1.13, CPU), from the repository root:
    /usr/bin/python3 tests/StaticGrad.Tests/Models/Golden/make_two_output_golden.py
It rewrites, beside this script:
  TwoHeadNet.initial.safetensors  state_dict right after torch.manual_seed(seed) and construction
  TwoHeadNet.final.safetensors    state_dict after 20 SGD steps (lr 0.05, momentum 0.9)
  TwoHeadNet.json                 the 20 batches of 8 examples (inputs, labels, targets), each step's loss (the forward of
                                  that step's batch, before its update), one more batch and the outputs of the final model

TwoHeadNet returns (scores, value): scores = classes(tanh(trunk(x))), value = value(tanh(scores)), so the second output is
computed from the first and the scores' gradient is the sum of what the two losses give it. The loss of a step is
    F.cross_entropy(scores, labels) + F.mse_loss(value, targets)
which the C# test computes with StaticGrad.Kernels.Losses, then Backward(scoresGradients, valueGradients) and Step().

Data: a torch.Generator seeded with data_seed = seed + 1 draws, batch by batch (20 training batches, then the evaluation
batch), the inputs from torch.randn(8, 6), the labels from torch.randint(0, 3, (8,)), the targets from torch.randn(8, 1).

Stability check (exit status 1 unless a seed passes): the same run in float64 from the converted initial state must agree
with the float32 run to LOSS_TOL = 1e-6 relative on every loss and STATE_TOL = 1e-5 (|a-b| / max(|b|, 1)) on the final
parameters and outputs (the model has no ReLU or max-pool whose decisions rounding could flip).

The safetensors writer, the float formatting and the error measure are make_models_golden.py's.
"""
import copy
import json
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from make_models_golden import f32, save_file, scaled_error

HERE = Path(__file__).resolve().parent
BATCH, STEPS, LR, MOMENTUM = 8, 20, 0.05, 0.9
LOSS_TOL, STATE_TOL = 1e-6, 1e-5
SEEDS = range(4000, 4100)

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


class TwoHeadNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Linear(6, 12)
        self.classes = nn.Linear(12, 3)
        self.value = nn.Linear(3, 1)

    def forward(self, x):
        h = torch.tanh(self.trunk(x))
        scores = self.classes(h)
        return scores, self.value(torch.tanh(scores))


def make_data(data_seed):
    g = torch.Generator().manual_seed(data_seed)

    def batch():
        return torch.randn(BATCH, 6, generator=g), torch.randint(0, 3, (BATCH,), generator=g), torch.randn(BATCH, 1, generator=g)

    return [batch() for _ in range(STEPS)], batch()


def train(model, batches, eval_x, dtype):
    model = model.to(dtype)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    losses = []
    for x, labels, targets in batches:
        optimizer.zero_grad()
        scores, value = model(x.to(dtype))
        loss = F.cross_entropy(scores, labels) + F.mse_loss(value, targets.to(dtype))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with torch.no_grad():
        scores, value = model(eval_x.to(dtype))
    return model, losses, scores, value


def main():
    for seed in SEEDS:
        torch.manual_seed(seed)
        model = TwoHeadNet()
        initial = copy.deepcopy(model.state_dict())
        batches, (eval_x, _, _) = make_data(seed + 1)
        m32, losses32, scores32, value32 = train(copy.deepcopy(model), batches, eval_x, torch.float32)
        m64, losses64, scores64, value64 = train(copy.deepcopy(model), batches, eval_x, torch.float64)
        loss_err = max(abs(a - b) / abs(b) for a, b in zip(losses32, losses64))
        s32, s64 = m32.state_dict(), m64.state_dict()
        state_err = max(scaled_error(s32[n], s64[n]) for n in s32)
        output_err = max(scaled_error(scores32, scores64), scaled_error(value32, value64))
        ok = loss_err <= LOSS_TOL and max(state_err, output_err) <= STATE_TOL
        print(f"TwoHeadNet seed {seed}: {'ok' if ok else 'unstable'}  loss rel {loss_err:.2e}  "
              f"params {state_err:.2e}  outputs {output_err:.2e}  loss {losses32[0]:.4f} -> {losses32[-1]:.4f}")
        if not ok:
            continue
        save_file(initial, HERE / "TwoHeadNet.initial.safetensors")
        save_file(s32, HERE / "TwoHeadNet.final.safetensors")
        document = {
            "model": "TwoHeadNet", "seed": seed, "data_seed": seed + 1, "torch": torch.__version__,
            "loss": "cross_entropy(scores) + mse_loss(value)", "batch": BATCH, "steps": STEPS, "lr": LR, "momentum": MOMENTUM,
            "inputs": [f32(x) for x, _, _ in batches],
            "labels": [labels.tolist() for _, labels, _ in batches],
            "targets": [f32(targets) for _, _, targets in batches],
            "losses": f32(torch.tensor(losses32, dtype=torch.float32)),
            "eval_inputs": f32(eval_x),
            "eval_scores": f32(scores32),
            "eval_values": f32(value32),
        }
        (HERE / "TwoHeadNet.json").write_text(json.dumps(document, separators=(",", ":")) + "\n")
        return
    print("TwoHeadNet: no stable seed", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
    main()
