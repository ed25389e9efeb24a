#if TORCH
using System;
using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace StaticGrad.Benchmarks.Gpt;

// StaticGrad.Tensor (the models-as-C# type) would win over the using static above; inside the namespace this alias wins.
using Tensor = TorchSharp.torch.Tensor;

/// <summary>
/// <see cref="NanoGptBlock"/> in TorchSharp: LayerNorm, q/k/v Linear(128, 128) with bias, causal
/// <c>scaled_dot_product_attention</c> over 4 heads, Linear proj, residual; LayerNorm, Linear(128, 512), exact GELU,
/// Linear(512, 128), residual. The fields are named as the C# model's, so <c>state_dict</c> names are the same.
/// </summary>
internal sealed class TorchNanoGptBlock : nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.LayerNorm ln1, ln2;
    private readonly TorchSharp.Modules.Linear query, key, value, proj, up, down;
    private readonly int _heads;

    public TorchNanoGptBlock(int dim, int heads) : base(nameof(TorchNanoGptBlock))
    {
        _heads = heads;
        ln1 = nn.LayerNorm(dim);
        query = nn.Linear(dim, dim);
        key = nn.Linear(dim, dim);
        value = nn.Linear(dim, dim);
        proj = nn.Linear(dim, dim);
        ln2 = nn.LayerNorm(dim);
        up = nn.Linear(dim, 4 * dim);
        down = nn.Linear(4 * dim, dim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        long b = x.shape[0], t = x.shape[1], c = x.shape[2];
        Tensor h = ln1.call(x);
        Tensor q = query.call(h).view(b, t, _heads, c / _heads).transpose(1, 2);
        Tensor k = key.call(h).view(b, t, _heads, c / _heads).transpose(1, 2);
        Tensor v = value.call(h).view(b, t, _heads, c / _heads).transpose(1, 2);
        Tensor y = nn.functional.scaled_dot_product_attention(q, k, v, is_casual: true);
        x = x + proj.call(y.transpose(1, 2).contiguous().view(b, t, c));
        return x + down.call(nn.functional.gelu(up.call(ln2.call(x))));
    }
}

/// <summary>
/// <see cref="NanoGpt"/> in TorchSharp: token embedding plus a learned position parameter, four blocks, a final LayerNorm and
/// a Linear head without bias, its modules named as the C# model's fields so StaticGrad's parameters copy across by name.
/// </summary>
internal sealed class TorchNanoGpt : nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Embedding tokens;
    private readonly TorchSharp.Modules.Parameter position;
    private readonly TorchSharp.Modules.ModuleList<TorchNanoGptBlock> blocks;
    private readonly TorchSharp.Modules.LayerNorm final;
    private readonly TorchSharp.Modules.Linear head;

    public TorchNanoGpt() : base(nameof(TorchNanoGpt))
    {
        tokens = nn.Embedding(GptBenchmarks.Vocabulary, GptBenchmarks.Width);
        position = new TorchSharp.Modules.Parameter(torch.zeros(GptBenchmarks.Block, GptBenchmarks.Width));
        var list = new TorchNanoGptBlock[GptBenchmarks.Layers];
        for (int i = 0; i < list.Length; i++) list[i] = new TorchNanoGptBlock(GptBenchmarks.Width, GptBenchmarks.Heads);
        blocks = nn.ModuleList(list);
        final = nn.LayerNorm(GptBenchmarks.Width);
        head = nn.Linear(GptBenchmarks.Width, GptBenchmarks.Vocabulary, hasBias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor ids)
    {
        Tensor x = tokens.call(ids) + position;
        foreach (var block in blocks) x = block.call(x);
        return head.call(final.call(x));
    }

    /// <summary>Copies every parameter of a StaticGrad model (a flat array described by PyTorch names) into this module by name.</summary>
    public void CopyFrom(StaticGrad.Interchange.NetworkDescription description, ReadOnlySpan<float> parameters)
    {
        var ours = new Dictionary<string, (int Offset, int Count)>();
        foreach (var tensor in description.Tensors) ours.Add(tensor.Name, (tensor.Offset, tensor.Count));
        using var noGrad = torch.no_grad();
        int copied = 0;
        foreach (var (name, parameter) in named_parameters())
        {
            if (!ours.TryGetValue(name, out var at) || at.Count != parameter.numel())
            {
                throw new InvalidOperationException($"TorchSharp parameter {name} [{string.Join(", ", parameter.shape)}] has no counterpart of that size in StaticGrad's model.");
            }

            parameter.copy_(torch.tensor(parameters.Slice(at.Offset, at.Count).ToArray(), parameter.shape));
            copied++;
        }

        if (copied != ours.Count)
        {
            throw new InvalidOperationException($"Copied {copied} of StaticGrad's {ours.Count} parameter tensors.");
        }
    }
}

/// <summary>
/// <see cref="TorchNanoGpt"/> on fixed batches with per-position cross-entropy and AdamW in nanoGPT's two groups (weight
/// decay on the tensors of two or more dimensions, none on the others): one training step (zero_grad, forward, loss,
/// backward, step) per call, on the thread count given.
/// </summary>
internal sealed class TorchGptTrainer
{
    private readonly TorchNanoGpt _model;
    private readonly TorchSharp.Modules.AdamW _optimizer;
    private readonly Tensor[] _ids, _labels;
    private int _next;

    public TorchGptTrainer(TorchNanoGpt model, int[][] ids, int[][] labels)
    {
        _model = model;
        _model.train();
        var decay = new List<TorchSharp.Modules.Parameter>();
        var noDecay = new List<TorchSharp.Modules.Parameter>();
        foreach (var parameter in _model.parameters()) (parameter.dim() >= 2 ? decay : noDecay).Add(parameter);
        _optimizer = torch.optim.AdamW(new[]
        {
            new TorchSharp.Modules.AdamW.ParamGroup(decay, GptBenchmarks.LearningRate, GptBenchmarks.Beta1, GptBenchmarks.Beta2, GptBenchmarks.Epsilon, GptBenchmarks.WeightDecay),
            new TorchSharp.Modules.AdamW.ParamGroup(noDecay, GptBenchmarks.LearningRate, GptBenchmarks.Beta1, GptBenchmarks.Beta2, GptBenchmarks.Epsilon, 0.0),
        }, GptBenchmarks.LearningRate, GptBenchmarks.Beta1, GptBenchmarks.Beta2, GptBenchmarks.Epsilon);
        _ids = Array.ConvertAll(ids, b => torch.tensor(Array.ConvertAll(b, v => (long)v), new long[] { GptBenchmarks.Batch, GptBenchmarks.Block }));
        _labels = Array.ConvertAll(labels, b => torch.tensor(Array.ConvertAll(b, v => (long)v)));
    }

    /// <summary>One step on the next of the fixed batches; returns the loss before the update.</summary>
    public float Step(int threads)
    {
        if (torch.get_num_threads() != threads) torch.set_num_threads(threads);
        using var scope = torch.NewDisposeScope();
        int batch = _next;
        _next = (_next + 1) % _ids.Length;
        _optimizer.zero_grad();
        Tensor logits = _model.call(_ids[batch]);
        Tensor loss = nn.functional.cross_entropy(logits.view(-1, GptBenchmarks.Vocabulary), _labels[batch]);
        loss.backward();
        _optimizer.step();
        return loss.item<float>();
    }

    /// <summary>Forward and loss only, on the first batch.</summary>
    public void Forward()
    {
        using var scope = torch.NewDisposeScope();
        nn.functional.cross_entropy(_model.call(_ids[0]).view(-1, GptBenchmarks.Vocabulary), _labels[0]);
    }

    /// <summary>zero_grad, forward, loss and backward on the first batch, without the optimizer's step.</summary>
    public void ForwardBackward()
    {
        using var scope = torch.NewDisposeScope();
        _optimizer.zero_grad();
        nn.functional.cross_entropy(_model.call(_ids[0]).view(-1, GptBenchmarks.Vocabulary), _labels[0]).backward();
    }

    /// <summary>AdamW's step alone.</summary>
    public void OptimizerStep() => _optimizer.step();
}
#endif
