#!/usr/bin/env python3
"""Writes what PyTorch's nn.GRU and nn.LSTM compute for the recurrent models of RecurrentModels.cs, forward and backward.

Run with Debian's PyTorch (python3-torch, 1.13, CPU), from the repository root:
    /usr/bin/python3 tests/StaticGrad.Tests/Models/Golden/make_recurrent_golden.py
It takes a second and rewrites, beside this script, for each model M of MODELS:
  M.initial.safetensors    state_dict right after torch.manual_seed(seed) and construction (float32)
  M.gradients.safetensors  every parameter's gradient under the parameter's name, for the batch and output gradient below
and Recurrent.json: {M: {"seed", "batch", "x": B·6·3 floats, "dy": output gradient, "outputs": B·rows·hidden floats,
and for the models of hidden 5, "outputs64": the outputs computed in float64, "gradients64": {parameter name: its
gradient in float64}}}.

Each model returns what the PyTorch module returns, stacked along the steps as the C# twin stacks it: the output at every
step, then h_n (and c_n) per layer (PyTorch's [layers, batch, hidden] moved batch-first). The gradients are those of
sum(outputs · dy), so every part of the tuple gets a gradient.

Stability check: the same computation in float64 from the same initial state must agree with the float32 one within TOL
(|a-b| / max(|b|, 1)) in the outputs and every gradient; seeds are tried in order until one passes, and the script exits
non-zero when none does.
"""
import json
import sys
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_models_golden import f32, save_file, scaled_error  # noqa: E402  (same writer as the other golden files)

HERE = Path(__file__).resolve().parent
BATCH, STEPS, INPUTS, HIDDEN = 4, 6, 3, 5
TOL = 1e-6
SEEDS = range(5000, 5100)

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


class Recurrent(nn.Module):
    def __init__(self, kind, layers, bias, hidden):
        super().__init__()
        self.kind = kind
        module = nn.GRU if kind == "gru" else nn.LSTM
        setattr(self, kind, module(INPUTS, hidden, num_layers=layers, bias=bias, batch_first=True))

    def forward(self, x):
        output, final = getattr(self, self.kind)(x)
        finals = [final] if self.kind == "gru" else list(final)
        return torch.cat([output] + [f.transpose(0, 1) for f in finals], dim=1)


# name: (module, layers, bias, hidden). Hidden 5 runs the kernels' scalar lanes; 20 runs their vector lanes and a tail.
MODELS = {
    "GruOneLayer": ("gru", 1, False, HIDDEN),
    "GruTwoLayers": ("gru", 2, True, HIDDEN),
    "LstmOneLayer": ("lstm", 1, True, HIDDEN),
    "LstmTwoLayers": ("lstm", 2, False, HIDDEN),
    "GruWide": ("gru", 2, True, 20),
    "LstmWide": ("lstm", 2, True, 20),
}


def run(model, x, dy):
    model.zero_grad()
    y = model(x)
    (y * dy).sum().backward()
    return y.detach(), {name: p.grad.detach().clone() for name, p in model.named_parameters()}


def attempt(name, seed):
    kind, layers, bias, hidden = MODELS[name]
    torch.manual_seed(seed)
    model = Recurrent(kind, layers, bias, hidden)
    generator = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(BATCH, STEPS, INPUTS, generator=generator)
    rows = STEPS + layers * (1 if kind == "gru" else 2)
    dy = torch.randn(BATCH, rows, hidden, generator=generator)
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    y32, g32 = run(model, x, dy)
    model64 = Recurrent(kind, layers, bias, hidden).double()
    model64.load_state_dict({k: v.double() for k, v in initial.items()})
    y64, g64 = run(model64, x.double(), dy.double())
    error = max([scaled_error(y32, y64)] + [scaled_error(g32[k], g64[k]) for k in g32])
    return error, initial, x, dy, y32, g32, y64, g64


def main():
    record = {}
    for name in MODELS:
        for seed in SEEDS:
            error, initial, x, dy, y, grads, y64, grads64 = attempt(name, seed)
            if error <= TOL:
                break
            print(f"{name}: seed {seed} float32 vs float64 differ by {error:.2e}; trying the next", file=sys.stderr)
        else:
            sys.exit(f"{name}: no seed in {SEEDS} gives float32 and float64 runs within {TOL}")
        save_file(initial, HERE / f"{name}.initial.safetensors")
        save_file(grads, HERE / f"{name}.gradients.safetensors")
        record[name] = {"seed": seed, "torch": torch.__version__, "batch": BATCH, "x": f32(x), "dy": f32(dy), "outputs": f32(y)}
        if MODELS[name][3] == HIDDEN:
            # The same computation in float64 from the same float32 weights and inputs (exact in double), every digit
            # kept: what a double implementation must reproduce to ~1e-10.
            record[name]["outputs64"] = y64.reshape(-1).tolist()
            record[name]["gradients64"] = {k: v.reshape(-1).tolist() for k, v in grads64.items()}
        print(f"{name}: seed {seed}, float32 vs float64 within {error:.2e}")
    (HERE / "Recurrent.json").write_text(json.dumps(record, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
