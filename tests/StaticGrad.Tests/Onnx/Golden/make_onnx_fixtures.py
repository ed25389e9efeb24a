#!/usr/bin/python3
"""Writes the ONNX fixtures the reader tests (OnnxReaderGoldenTests) read back, and a JSON summary of each.

Run with Debian's Python (python3-torch 1.13, python3-onnx), from this folder:

    /usr/bin/python3 make_onnx_fixtures.py [name …]

(with names, e.g. `gpt`, only those models' files are written).

For each model (an MLP 64-32-10, a CNN with BatchNorm and MaxPool, a residual block at opsets 13 and 17; the other
operators the importer takes, an embedding, and a tiny GPT at opset 17) it writes
`<name>.opset<N>.onnx` (torch.onnx.export in eval mode, input and output with a dynamic batch axis) and
`<name>.opset<N>.json`: the model's opset imports, node op types in file order, the graph inputs and outputs with their
dims (a string for a symbolic one), every initializer's name, data type, dims and the sum of its values (float64), and
the values of one initializer
(`sample`), as read back by the `onnx` package, an independent reader to compare StaticGrad's with; and
`<name>.opset<N>.golden.json` for the [FromOnnx] tests (FromOnnxGoldenTests): a batch, PyTorch's eval outputs on it, the
losses of 10 plain SGD steps from the exported weights in training mode, the eval outputs after them, and how far the
float32 run is from a float64 one.
"""
import json
import math
import os
import sys

import onnx
import onnx.numpy_helper
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(4 * 4 * 4, 10)

    def forward(self, x):
        h = self.pool(torch.relu(self.bn(self.conv(x))))
        # view(batch, -1): PyTorch writes Shape -> Gather -> Unsqueeze -> Concat -> Reshape for it.
        return self.fc(h.view(h.size(0), -1))


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 3, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(3)
        self.conv2 = nn.Conv2d(3, 3, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(3)

    def forward(self, x):
        h = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(h)) + x)


class Ops(nn.Module):
    """The other operators the importer takes, as PyTorch 1.13 exports them at opset 17: Div and Add by constants, Sigmoid,
    Transpose, LayerNormalization, GELU
    (Div, Erf, Add, Mul, Mul),
    a Linear on a 4-D value (MatMul and the Add of its bias), Tanh, AveragePool, GlobalAveragePool, Mul, Sub, Flatten,
    Concat and Softmax."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, padding=1)
        self.norm = nn.LayerNorm(6)
        self.rows = nn.Linear(6, 6)
        self.head = nn.Linear(4 * 3 * 3 + 4, 5)

    def forward(self, x):
        h = torch.sigmoid(self.conv(x / 2 + 0.25))           # 4×6×6 (Div and Add by constants)
        t = self.rows(self.norm(h.transpose(2, 3)))          # 4×6×6
        a = nn.functional.avg_pool2d(torch.tanh(t), 2)       # 4×3×3
        g = nn.functional.adaptive_avg_pool2d(nn.functional.gelu(t), 1)  # 4×1×1
        d = a - g * a
        flat = torch.cat([torch.flatten(d, 1), torch.flatten(g, 1)], dim=1)
        return torch.softmax(self.head(flat), dim=1)


class Embed(nn.Module):
    """nn.Embedding over int64 token ids (a Gather), then a Linear of the flattened rows."""

    def __init__(self):
        super().__init__()
        self.tokens = nn.Embedding(12, 4)
        self.head = nn.Linear(5 * 4, 3)

    def forward(self, ids):
        return self.head(torch.tanh(self.tokens(ids)).flatten(1))


GPT_VOCAB, GPT_POSITIONS, GPT_WIDTH, GPT_HEADS = 11, 8, 16, 2


class GptBlock(nn.Module):
    """A pre-norm transformer block: causal self-attention over 2 heads written out as matmuls, then a GELU MLP."""

    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(GPT_WIDTH)
        self.query = nn.Linear(GPT_WIDTH, GPT_WIDTH, bias=False)
        self.key = nn.Linear(GPT_WIDTH, GPT_WIDTH, bias=False)
        self.value = nn.Linear(GPT_WIDTH, GPT_WIDTH, bias=False)
        self.proj = nn.Linear(GPT_WIDTH, GPT_WIDTH)
        self.ln2 = nn.LayerNorm(GPT_WIDTH)
        self.up = nn.Linear(GPT_WIDTH, 2 * GPT_WIDTH)  # 2× wide, not nanoGPT's 4×: a smaller file
        self.down = nn.Linear(2 * GPT_WIDTH, GPT_WIDTH)

    def split(self, t):
        # Reshape with -1 for the batch (PyTorch writes a constant shape), then the heads in front of the positions.
        return t.reshape(-1, GPT_POSITIONS, GPT_HEADS, GPT_WIDTH // GPT_HEADS).transpose(1, 2)

    def forward(self, x):
        h = self.ln1(x)
        q, k, v = self.split(self.query(h)), self.split(self.key(h)), self.split(self.value(h))
        # The causal mask as an additive constant (-1e9 above the diagonal), exported as a Constant that the Add reads:
        # masked_fill would export as Where on a boolean mask, which StaticGrad's graph does not have. exp(-1e9) is 0 in
        # float32 as in float64, so the outputs are those of masked_fill(-inf).
        mask = torch.full((GPT_POSITIONS, GPT_POSITIONS), -1e9).triu(1)
        scores = (q @ k.transpose(2, 3)) * (1.0 / math.sqrt(GPT_WIDTH // GPT_HEADS)) + mask  # Transpose perm [0, 2, 3, 1]
        a = torch.softmax(scores, dim=-1) @ v
        x = x + self.proj(a.transpose(1, 2).reshape(-1, GPT_POSITIONS, GPT_WIDTH))
        return x + self.down(nn.functional.gelu(self.up(self.ln2(x))))


class Gpt(nn.Module):
    """A tiny GPT: token embedding plus a learned position parameter, one pre-norm block, a final LayerNorm and a Linear
    head giving 11 scores at each of the 8 positions (trained on per-position cross-entropy)."""

    def __init__(self):
        super().__init__()
        self.tokens = nn.Embedding(GPT_VOCAB, GPT_WIDTH)
        self.position = nn.Parameter(0.1 * torch.randn(GPT_POSITIONS, GPT_WIDTH))
        self.blocks = nn.ModuleList([GptBlock()])
        self.final = nn.LayerNorm(GPT_WIDTH)
        self.head = nn.Linear(GPT_WIDTH, GPT_VOCAB, bias=False)
        with torch.no_grad():
            # LayerNorm weights and biases of their own, not all ones and zeros, which the exporter would share as one
            # initializer (Identity nodes) and which would test less.
            for m in self.modules():
                if isinstance(m, nn.LayerNorm):
                    m.weight.add_(0.1 * torch.randn(GPT_WIDTH))
                    m.bias.add_(0.1 * torch.randn(GPT_WIDTH))

    def forward(self, ids):
        x = self.tokens(ids) + self.position
        for block in self.blocks:
            x = block(x)
        return self.head(self.final(x))


MODELS = [
    ("mlp", Mlp, (1, 64), "fc2.weight"),
    ("cnn", Cnn, (1, 1, 8, 8), "fc.weight"),
    ("residual", Residual, (1, 3, 6, 6), "bn1.running_mean"),
    ("ops", Ops, (1, 2, 6, 6), "rows.bias"),
    ("embed", Embed, (1, 5), "tokens.weight"),
    ("gpt", Gpt, (1, GPT_POSITIONS), "position"),
]

# LayerNormalization is an ONNX operator from opset 17 (before, PyTorch writes ReduceMean, Sub, Pow, Sqrt, Div).
OPSETS = {"ops": (17,), "embed": (17,), "gpt": (17,)}
TOKENS = ("embed", "gpt")  # models whose input is int64 token ids


def dims(value_info):
    shape = value_info.type.tensor_type.shape
    return [d.dim_param if d.HasField("dim_param") else d.dim_value for d in shape.dim]


def attribute(a):
    """An attribute as {name, type, value}: numbers and lists as they are, a string decoded, a tensor as {data_type, dims, values}."""
    value = onnx.helper.get_attribute_value(a)
    if a.type == onnx.AttributeProto.STRING:
        value = value.decode("utf-8")
    elif a.type == onnx.AttributeProto.TENSOR:
        value = {
            "data_type": value.data_type,
            "dims": list(value.dims),
            "values": onnx.numpy_helper.to_array(value).astype("float64").ravel().tolist(),
        }
    elif a.type in (onnx.AttributeProto.INTS, onnx.AttributeProto.FLOATS):
        value = list(value)
    return {"name": a.name, "type": a.type, "value": value}


def summary(model, sample):
    graph = model.graph
    initializers = {t.name: t for t in graph.initializer}
    values = onnx.numpy_helper.to_array(initializers[sample]).astype("float64").ravel().tolist()
    return {
        "ir_version": model.ir_version,
        "opset_import": [{"domain": o.domain, "version": o.version} for o in model.opset_import],
        "ops": [n.op_type for n in graph.node],
        "nodes": [{"name": n.name, "op_type": n.op_type, "inputs": list(n.input), "outputs": list(n.output),
                   "attributes": [attribute(a) for a in n.attribute]} for n in graph.node],
        "inputs": [{"name": i.name, "elem_type": i.type.tensor_type.elem_type, "dims": dims(i)} for i in graph.input],
        "outputs": [{"name": o.name, "elem_type": o.type.tensor_type.elem_type, "dims": dims(o)} for o in graph.output],
        "initializers": [
            {
                "name": t.name,
                "data_type": t.data_type,
                "dims": list(t.dims),
                "sum": float(onnx.numpy_helper.to_array(t).astype("float64").sum()),
            }
            for t in graph.initializer
        ],
        "sample": {"name": sample, "values": values},
    }


BATCH = 8
STEPS = 10
LEARNING_RATE = {"mlp": 0.1, "cnn": 0.05, "residual": 0.05, "ops": 20.0, "embed": 0.5, "gpt": 0.5}
REGRESSION = ("residual", "ops")


def batch_for(name, shape, dtype):
    """A fixed batch and its labels (classifiers: cross-entropy) or targets (the residual block: mean squared error)."""
    g = torch.Generator().manual_seed(7)
    if name == "embed":
        return torch.randint(0, 12, (BATCH, *shape[1:]), generator=g), torch.randint(0, 3, (BATCH,), generator=g)
    if name == "gpt":
        # A label per position: the next token of a random text, as a language model trains.
        text = torch.randint(0, GPT_VOCAB, (BATCH, GPT_POSITIONS + 1), generator=g)
        return text[:, :-1].contiguous(), text[:, 1:].contiguous()
    x = torch.randn(BATCH, *shape[1:], generator=g)
    if name == "residual":
        y = torch.randn(BATCH, *shape[1:], generator=g)
        return x.to(dtype), y.to(dtype)
    if name == "ops":
        y = torch.softmax(torch.randn(BATCH, 5, generator=g), dim=1)
        return x.to(dtype), y.to(dtype)
    return x.to(dtype), torch.randint(0, 10, (BATCH,), generator=g)


def train(model, name, x, y):
    """Eval outputs, then STEPS steps of plain SGD in training mode (BatchNorm on batch statistics), as StaticGrad's TrainStep does."""
    model.eval()
    with torch.no_grad():
        outputs = model(x).detach().clone()
        # The MLP's hidden features, relu(fc1(x)): what [FromOnnx(Output = "/Relu")] keeps of it.
        features = torch.relu(model.fc1(x)).detach().clone() if name == "mlp" else None
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE[name])
    loss_fn = nn.MSELoss() if name in REGRESSION else nn.CrossEntropyLoss()
    if name == "gpt":
        def loss_fn(logits, labels):  # cross-entropy at every position, the mean over batch × positions
            return nn.functional.cross_entropy(logits.reshape(-1, GPT_VOCAB), labels.reshape(-1))
    losses = []
    for _ in range(STEPS):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        after = model(x).detach().clone()
    return outputs, losses, after, features


def golden(name, cls, shape, path_onnx, state):
    """`<name>.opset<N>.golden.json`: a batch, PyTorch's eval outputs on it, and the losses of STEPS SGD steps from the
    exported weights, in float32 (what StaticGrad computes) with the float64 run's largest difference beside them: a ReLU
    or max-pool decision that flips between the two would make the float32 trajectory fragile."""
    results = {}
    for dtype in (torch.float32, torch.float64):
        model = cls().to(dtype)
        model.load_state_dict(state)
        model.to(dtype)
        x, y = batch_for(name, shape, dtype)
        results[dtype] = train(model, name, x, y) + (x, y)
    outputs, losses, after, features, x, y = results[torch.float32]
    outputs64, losses64, after64, _, _, _ = results[torch.float64]
    return {
        "input_shape": list(shape[1:]),
        "batch": BATCH,
        "input": x.double().ravel().tolist(),
        "labels": y.ravel().tolist() if y.dtype == torch.int64 else None,
        "targets": y.double().ravel().tolist() if y.dtype != torch.int64 else None,
        "loss": "MeanSquaredError" if name in REGRESSION else "SoftmaxCrossEntropy",
        "learning_rate": LEARNING_RATE[name],
        "eval_outputs": outputs.double().ravel().tolist(),
        "hidden_features": features.double().ravel().tolist() if features is not None else None,
        "losses": losses,
        "outputs_after_training": after.double().ravel().tolist(),
        "float64_losses": losses64,
        "float32_vs_float64_loss_difference": max(abs(a - b) for a, b in zip(losses, losses64)),
        "float32_vs_float64_output_difference": float((outputs.double() - outputs64).abs().max()),
    }


def main(only):
    for name, cls, shape, sample in MODELS:
        if only and name not in only:
            continue
        for opset in OPSETS.get(name, (13, 17)):
            torch.manual_seed(1)
            model = cls()
            if any(isinstance(m, nn.BatchNorm2d) for m in model.modules()):
                # A few training batches so the running statistics are not 0 and 1.
                model.train()
                with torch.no_grad():
                    for _ in range(3):
                        model(torch.randn(4, *shape[1:]))
            model.eval()
            path = os.path.join(HERE, f"{name}.opset{opset}.onnx")
            torch.onnx.export(
                model,
                torch.zeros(*shape, dtype=torch.int64) if name in TOKENS else torch.randn(*shape),
                path,
                opset_version=opset,
                input_names=["input"],
                output_names=["output"],
                dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                do_constant_folding=True,
                # PRESERVE exports the eval-mode model as it is; EVAL (the default) would fold each BatchNorm into the
                # Conv before it, and the reader should see BatchNormalization nodes.
                training=torch.onnx.TrainingMode.PRESERVE,
            )
            loaded = onnx.load(path)
            onnx.checker.check_model(loaded)
            with open(os.path.join(HERE, f"{name}.opset{opset}.json"), "w") as f:
                json.dump(summary(loaded, sample), f, indent=1)
                f.write("\n")
            print(f"{name} opset {opset}: {os.path.getsize(path)} bytes, ops {[n.op_type for n in loaded.graph.node]}")
            record = golden(name, cls, shape, path, {k: v.clone() for k, v in model.state_dict().items()})
            with open(os.path.join(HERE, f"{name}.opset{opset}.golden.json"), "w") as f:
                json.dump(record, f, indent=1)
                f.write("\n")
            print(f"  losses {record['losses'][0]:.6f} -> {record['losses'][-1]:.6f}, float32 vs float64: losses {record['float32_vs_float64_loss_difference']:.2e}, outputs {record['float32_vs_float64_output_difference']:.2e}")


if __name__ == "__main__":
    main(sys.argv[1:])
