#!/usr/bin/env python3
"""Writes the golden training runs that the C# model tests replay (TinyResNet, SkipMlp, TwoInputNet).

Run with Debian's PyTorch (python3-torch, 1.13, CPU), from the repository root:
    /usr/bin/python3 tests/StaticGrad.Tests/Models/Golden/make_models_golden.py
It takes about ten seconds on one thread (most of it trying TinyResNet seeds) and rewrites, beside this script, for
each model <name>:
  <name>.initial.safetensors  state_dict right after torch.manual_seed(seed) and construction: parameters and buffers
                              (BatchNorm running_mean / running_var as F32, num_batches_tracked as an I64 scalar, shape [])
  <name>.final.safetensors    state_dict after 20 SGD steps (lr 0.05, momentum 0.9) in train() mode, buffers included
  <name>.json                 the 20 batches of 8 examples, the loss of each step (the forward of that step's batch, before
                              its update), one more batch of 8 and the eval() outputs of the final model for it
The safetensors files are written by hand the way safetensors.torch.save_file writes them (there is no `safetensors`
package here), as in ../../Interchange/Golden/make_golden.py: u64 little-endian header length, JSON header
(__metadata__ {"format": "pt"} first), padded with spaces to a multiple of 8, then the raw little-endian bytes, laid out
in reverse name order. Every float in the JSON is the shortest decimal that reads back as the same float32 (numpy's
repr of the float32 value), so float.Parse in C# gives the identical bits.

Data: after torch.manual_seed(seed) and construction, a torch.Generator seeded with data_seed = seed + 1 draws, batch by
batch (20 training batches, then the eval batch), each input from torch.randn, then the labels from
torch.randint(0, 3) or the targets from torch.randn. The eval batch has no labels in the JSON.

JSON schema (every list is flat in row-major / NCHW order):
  {"model": name, "seed": int, "data_seed": int, "torch": version, "loss": "cross_entropy" | "mse_loss",
   "batch": 8, "steps": 20, "lr": 0.05, "momentum": 0.9,
   "input_shapes": [[1,8,8]] | [[6]] | [[5],[3]],          # per example, one shape per input
   "output_size": int,                                     # outputs per example
   "inputs": [step][input] -> 8·prod(shape) floats,
   "labels": [step] -> 8 ints in [0,3)    (cross_entropy models)   or
   "targets": [step] -> 8·2 floats        (mse_loss model),
   "losses": [20 floats],
   "eval_inputs": [input] -> 8·prod(shape) floats,
   "eval_outputs": 8·output_size floats}

Stability check (the script exits with status 1 unless every model passes it): the same run is repeated in float64 from
the float32 initial state (converted) on the same batches, and
  - each step's float32 loss must agree with the float64 loss within LOSS_TOL = 1e-6 relative,
  - the final parameters, running statistics and eval() outputs within STATE_TOL = 1e-5 (|a-b| / max(|b|, 1)),
  - in the float64 run (training steps and the eval forward), no ReLU input may lie within MARGIN = 5e-5 of 0 (about
    50 times the float32 rounding of the O(1) BatchNorm outputs that feed the ReLUs), and in every
    2x2 max-pool window whose maximum is positive the largest value must exceed the second largest by MARGIN (windows
    whose maximum is 0 hold only ReLU zeros, whose gradient is 0 whichever element the pool picks),
  - the eval() outputs of the 8 examples must be pairwise distinct (in TinyResNet an example whose pooled features all
    die in the last ReLU gets just the head's bias, which would test little).
For each model the seeds in SEEDS[name] are tried in order; the first that passes is written and the seeds tried are
printed. The summary lists the agreement figures and the margins.
"""
import copy
import json
import struct
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

HERE = Path(__file__).resolve().parent
BATCH, STEPS, LR, MOMENTUM = 8, 20, 0.05, 0.9
LOSS_TOL, STATE_TOL, MARGIN = 1e-6, 1e-5, 5e-5
SEEDS = {"TinyResNet": range(1000, 1100), "SkipMlp": range(2000, 2100), "TwoInputNet": range(3000, 3100)}

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


class Probe:
    """Smallest ReLU-input magnitude and max-pool gap seen while enabled (used on the float64 run)."""
    enabled = False
    relu = float("inf")
    pool = float("inf")

    @classmethod
    def reset(cls, enabled):
        cls.enabled, cls.relu, cls.pool = enabled, float("inf"), float("inf")


def relu(x):
    if Probe.enabled:
        Probe.relu = min(Probe.relu, x.detach().abs().min().item())
    return F.relu(x)


def max_pool2d(x, k):
    if Probe.enabled:
        n, c, h, w = x.shape
        windows = x.detach().reshape(n, c, h // k, k, w // k, k).permute(0, 1, 2, 4, 3, 5).reshape(-1, k * k)
        top = windows.topk(2, dim=1).values
        positive = top[:, 0] > 0
        if positive.any():
            Probe.pool = min(Probe.pool, (top[positive, 0] - top[positive, 1]).min().item())
    return F.max_pool2d(x, k)


class ResidualBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        h = relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        return relu(x + h)


class TinyResNet(nn.Module):
    input_shapes, output_size, loss = [[1, 8, 8]], 3, "cross_entropy"

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.block1 = ResidualBlock(4)
        self.block2 = ResidualBlock(4)
        self.head = nn.Linear(4 * 2 * 2, 3)

    def forward(self, x):
        h = max_pool2d(relu(self.bn(self.stem(x))), 2)
        h = max_pool2d(self.block2(self.block1(h)), 2)
        return self.head(torch.flatten(h, 1))


class SkipMlp(nn.Module):
    input_shapes, output_size, loss = [[6]], 3, "cross_entropy"

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 16)
        self.ln = nn.LayerNorm(16)
        self.fc2 = nn.Linear(16, 16)
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        h = self.fc1(x)
        h = h + F.gelu(self.fc2(self.ln(h)))
        return self.head(F.gelu(h, approximate="tanh"))


class TwoInputNet(nn.Module):
    input_shapes, output_size, loss = [[5], [3]], 2, "mse_loss"

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(5, 8)
        self.b = nn.Linear(3, 8)
        self.head = nn.Linear(8, 2)

    def forward(self, x, y):
        return self.head(torch.tanh(self.a(x)) * torch.sigmoid(self.b(y)))


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


def f32(tensor):
    """Flat list of the shortest decimals that read back as the same float32 values."""
    values = tensor.detach().to(torch.float32).reshape(-1).numpy()
    return [float(str(v)) for v in values]


def make_data(model_class, data_seed):
    g = torch.Generator().manual_seed(data_seed)

    def batch():
        inputs = [torch.randn([BATCH] + shape, generator=g) for shape in model_class.input_shapes]
        if model_class.loss == "cross_entropy":
            answer = torch.randint(0, 3, (BATCH,), generator=g)
        else:
            answer = torch.randn(BATCH, model_class.output_size, generator=g)
        return inputs, answer

    return [batch() for _ in range(STEPS)], batch()


def train(model, batches, eval_inputs, dtype, probe=False):
    model = model.to(dtype)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    lossfn = F.cross_entropy if model.loss == "cross_entropy" else F.mse_loss
    losses = []
    Probe.reset(probe)
    model.train()
    for inputs, answer in batches:
        inputs = [x.to(dtype) for x in inputs]
        answer = answer if answer.dtype == torch.int64 else answer.to(dtype)
        optimizer.zero_grad()
        loss = lossfn(model(*inputs), answer)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        outputs = model(*[x.to(dtype) for x in eval_inputs])
    margins = (Probe.relu, Probe.pool)
    Probe.reset(False)
    return model, losses, outputs, margins


def scaled_error(a, b):
    a, b = a.double(), b.double()
    return ((a - b).abs() / b.abs().clamp(min=1.0)).max().item() if a.numel() else 0.0


def attempt(model_class, seed):
    torch.manual_seed(seed)
    model = model_class()
    initial = copy.deepcopy(model.state_dict())
    batches, (eval_inputs, _) = make_data(model_class, seed + 1)
    m32, losses32, out32, _ = train(copy.deepcopy(model), batches, eval_inputs, torch.float32)
    m64, losses64, out64, (relu_margin, pool_margin) = train(copy.deepcopy(model), batches, eval_inputs,
                                                             torch.float64, probe=True)
    loss_err = max(abs(a - b) / abs(b) for a, b in zip(losses32, losses64))
    s32, s64 = m32.state_dict(), m64.state_dict()
    param_names = {name for name, _ in m32.named_parameters()}
    param_err = max(scaled_error(s32[n], s64[n]) for n in param_names)
    buffer_err = max([scaled_error(s32[n], s64[n]) for n in s32 if n not in param_names] + [0.0])
    eval_err = scaled_error(out32, out64)
    distinct = len({tuple(row) for row in out64.tolist()})
    stats = {"seed": seed, "loss_rel": loss_err, "param": param_err, "buffer": buffer_err, "eval": eval_err,
             "relu_margin": relu_margin, "pool_margin": pool_margin, "distinct": distinct}
    ok = (loss_err <= LOSS_TOL and max(param_err, buffer_err, eval_err) <= STATE_TOL
          and relu_margin >= MARGIN and pool_margin >= MARGIN and distinct == BATCH)
    return ok, stats, (initial, batches, eval_inputs, m32, losses32, out32)


def write(model_class, seed, run):
    name = model_class.__name__
    initial, batches, eval_inputs, final, losses, outputs = run
    save_file(initial, HERE / f"{name}.initial.safetensors")
    save_file(final.state_dict(), HERE / f"{name}.final.safetensors")
    answers = "labels" if model_class.loss == "cross_entropy" else "targets"
    document = {
        "model": name, "seed": seed, "data_seed": seed + 1, "torch": torch.__version__, "loss": model_class.loss,
        "batch": BATCH, "steps": STEPS, "lr": LR, "momentum": MOMENTUM,
        "input_shapes": model_class.input_shapes, "output_size": model_class.output_size,
        "inputs": [[f32(x) for x in inputs] for inputs, _ in batches],
        answers: [a.tolist() if a.dtype == torch.int64 else f32(a) for _, a in batches],
        "losses": f32(torch.tensor(losses, dtype=torch.float32)),
        "eval_inputs": [f32(x) for x in eval_inputs],
        "eval_outputs": f32(outputs),
    }
    (HERE / f"{name}.json").write_text(json.dumps(document, separators=(",", ":")) + "\n")


def margin(value):
    return "none" if value == float("inf") else f"{value:.2e}"


def main():
    failed = False
    summary = []
    for model_class in (TinyResNet, SkipMlp, TwoInputNet):
        name, tried = model_class.__name__, []
        for seed in SEEDS[name]:
            ok, stats, run = attempt(model_class, seed)
            tried.append(seed)
            print(f"{name} seed {seed}: {'ok' if ok else 'unstable'}  loss rel {stats['loss_rel']:.2e}  "
                  f"params {stats['param']:.2e}  buffers {stats['buffer']:.2e}  eval {stats['eval']:.2e}  "
                  f"relu margin {margin(stats['relu_margin'])}  pool margin {margin(stats['pool_margin'])}  "
                  f"distinct eval rows {stats['distinct']}")
            if ok:
                write(model_class, seed, run)
                summary.append((name, tried, stats, run[4]))
                break
        else:
            print(f"{name}: no stable seed among {tried}", file=sys.stderr)
            failed = True
    print("\nsummary (float32 against float64; param/buffer/eval errors are |a-b| / max(|b|, 1)):")
    for name, tried, s, losses in summary:
        print(f"  {name}: seed {s['seed']} (tried {tried[0]}..{tried[-1]}, {len(tried)} seed(s)); "
              f"loss {losses[0]:.4f} -> {losses[-1]:.4f}; max loss rel {s['loss_rel']:.2e}, params {s['param']:.2e}, "
              f"buffers {s['buffer']:.2e}, eval {s['eval']:.2e}; ReLU margin {margin(s['relu_margin'])}, "
              f"pool margin {margin(s['pool_margin'])}")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
