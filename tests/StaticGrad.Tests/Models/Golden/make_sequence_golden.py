#!/usr/bin/env python3
"""Writes the golden training run of a small GPT that the C# sequence-model tests replay (TinyGpt in SequenceModels.cs).

Run with Debian's PyTorch (python3-torch, 1.13, CPU), from the repository root:
    /usr/bin/python3 tests/StaticGrad.Tests/Models/Golden/make_sequence_golden.py
It takes a few seconds on one thread and rewrites, beside this script:
  TinyGpt.initial.safetensors  state_dict right after torch.manual_seed(seed) and construction
  TinyGpt.final.safetensors    state_dict after 20 AdamW steps in train() mode
  TinyGpt.json                 the 20 batches, the loss of each step, an eval batch and the final model's eval() logits

The model is nanoGPT's architecture at toy size (11 tokens, 8 positions, 16 wide, 2 heads, 2 pre-norm blocks, GELU MLP,
q/k/v without bias, head without bias). PyTorch 1.13 has no F.scaled_dot_product_attention: attention is written out as
softmax(q·kᵀ·(1/√d) + causal mask)·v, which is what PyTorch 2's function computes without dropout. The optimizer is
torch.optim.AdamW(lr 0.01, betas (0.9, 0.999), eps 1e-8) with weight decay 0.1 on the tensors of two or more dimensions
and none on the others (nanoGPT's configure_optimizers; StaticGrad decays the same tensors). The loss is
F.cross_entropy over all positions (logits [B·T, 11], labels [B·T]).

Data: after construction, a torch.Generator seeded with seed + 1 draws for each batch a random text of B·(T+1) tokens,
B = 4 rows of T + 1; the ids are the first T of each row and the labels the last T (the next token at each position).

JSON: {"model", "seed", "data_seed", "torch", "batch": 4, "positions": 8, "vocabulary": 11, "steps": 20, "lr",
"beta1", "beta2", "eps", "weight_decay", "ids": [step] -> B·T ints, "labels": [step] -> B·T ints,
"losses": [20 floats], "eval_ids": B·T ints, "eval_outputs": B·T·11 floats}.

Stability check: the same run in float64 from the same initial state must agree with the float32 run within LOSS_TOL
relative at every step and STATE_TOL (|a-b| / max(|b|, 1)) in the final parameters and eval logits; seeds are tried
in order until one passes, and the script exits non-zero when none does.
"""
import copy
import json
import math
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_models_golden import f32, save_file, scaled_error  # noqa: E402  (same writer as the other golden files)

HERE = Path(__file__).resolve().parent
BATCH, T, VOCAB, DIM, HEADS, STEPS = 4, 8, 11, 16, 2, 20
LR, BETAS, EPS, WEIGHT_DECAY = 0.01, (0.9, 0.999), 1e-8, 0.1
LOSS_TOL, STATE_TOL = 1e-6, 1e-5
SEEDS = range(4000, 4100)

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


class GptBlock(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(dim)
        self.query = nn.Linear(dim, dim, bias=False)
        self.key = nn.Linear(dim, dim, bias=False)
        self.value = nn.Linear(dim, dim, bias=False)
        self.proj = nn.Linear(dim, dim)
        self.ln2 = nn.LayerNorm(dim)
        self.up = nn.Linear(dim, 4 * dim)
        self.down = nn.Linear(4 * dim, dim)

    def split(self, t):
        b, n, c = t.shape
        return t.reshape(b, n, self.heads, c // self.heads).transpose(1, 2)

    def forward(self, x):
        h = self.ln1(x)
        q, k, v = self.split(self.query(h)), self.split(self.key(h)), self.split(self.value(h))
        n, d = q.shape[-2], q.shape[-1]
        scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(d))
        mask = torch.ones(n, n, dtype=torch.bool).tril()
        scores = scores.masked_fill(~mask, float("-inf"))
        a = F.softmax(scores, dim=-1) @ v
        b = x.shape[0]
        x = x + self.proj(a.transpose(1, 2).reshape(b, n, -1))
        return x + self.down(F.gelu(self.up(self.ln2(x))))


class TinyGpt(nn.Module):
    def __init__(self):
        super().__init__()
        self.tokens = nn.Embedding(VOCAB, DIM)
        self.position = nn.Parameter(torch.zeros(T, DIM))
        self.blocks = nn.ModuleList([GptBlock(DIM, HEADS), GptBlock(DIM, HEADS)])
        self.final = nn.LayerNorm(DIM)
        self.head = nn.Linear(DIM, VOCAB, bias=False)

    def forward(self, ids):
        x = self.tokens(ids) + self.position
        for block in self.blocks:
            x = block(x)
        return self.head(self.final(x))


def make_data(data_seed):
    g = torch.Generator().manual_seed(data_seed)

    def batch():
        text = torch.randint(0, VOCAB, (BATCH, T + 1), generator=g)
        return text[:, :T].contiguous(), text[:, 1:].contiguous()

    return [batch() for _ in range(STEPS)], batch()


def train(model, batches, eval_ids, dtype):
    model = model.to(dtype)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY}, {"params": no_decay, "weight_decay": 0.0}],
                                  lr=LR, betas=BETAS, eps=EPS)
    losses = []
    model.train()
    for ids, labels in batches:
        optimizer.zero_grad()
        logits = model(ids)
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), labels.reshape(-1))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        outputs = model(eval_ids)
    return model, losses, outputs


def attempt(seed):
    torch.manual_seed(seed)
    model = TinyGpt()
    # Position embeddings start at zero in nanoGPT's nn.Parameter form; give them values so their gradient path is tested.
    with torch.no_grad():
        model.position.normal_(0.0, 0.5)
    initial = copy.deepcopy(model.state_dict())
    batches, (eval_ids, _) = make_data(seed + 1)
    m32, losses32, out32 = train(copy.deepcopy(model), batches, eval_ids, torch.float32)
    m64, losses64, out64 = train(copy.deepcopy(model), batches, eval_ids, torch.float64)
    loss_err = max(abs(a - b) / abs(b) for a, b in zip(losses32, losses64))
    s32, s64 = m32.state_dict(), m64.state_dict()
    param_err = max(scaled_error(s32[n], s64[n]) for n in s32)
    eval_err = scaled_error(out32, out64)
    ok = loss_err <= LOSS_TOL and max(param_err, eval_err) <= STATE_TOL
    return ok, {"seed": seed, "loss_rel": loss_err, "param": param_err, "eval": eval_err}, (initial, batches, eval_ids, m32, losses32, out32)


def write(seed, run):
    initial, batches, eval_ids, final, losses, outputs = run
    save_file(initial, HERE / "TinyGpt.initial.safetensors")
    save_file(final.state_dict(), HERE / "TinyGpt.final.safetensors")
    document = {
        "model": "TinyGpt", "seed": seed, "data_seed": seed + 1, "torch": torch.__version__,
        "batch": BATCH, "positions": T, "vocabulary": VOCAB, "steps": STEPS,
        "lr": LR, "beta1": BETAS[0], "beta2": BETAS[1], "eps": EPS, "weight_decay": WEIGHT_DECAY,
        "ids": [ids.reshape(-1).tolist() for ids, _ in batches],
        "labels": [labels.reshape(-1).tolist() for _, labels in batches],
        "losses": f32(torch.tensor(losses, dtype=torch.float32)),
        "eval_ids": eval_ids.reshape(-1).tolist(),
        "eval_outputs": f32(outputs),
    }
    (HERE / "TinyGpt.json").write_text(json.dumps(document, separators=(",", ":")) + "\n")


def main():
    for seed in SEEDS:
        ok, stats, run = attempt(seed)
        print(f"TinyGpt seed {seed}: {'ok' if ok else 'unstable'}  loss rel {stats['loss_rel']:.2e}  "
              f"params {stats['param']:.2e}  eval {stats['eval']:.2e}  loss {run[4][0]:.4f} -> {run[4][-1]:.4f}")
        if ok:
            write(seed, run)
            return
    print("TinyGpt: no stable seed", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
    main()
