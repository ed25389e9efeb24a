#if TORCH
using System;
using TorchSharp;
using static TorchSharp.torch;

namespace StaticGrad.Benchmarks;

// StaticGrad.Tensor (the models-as-C# type) would win over the using static above; inside the namespace this alias wins.
using Tensor = TorchSharp.torch.Tensor;

/// <summary>TorchSharp-cpu: D = W·X forward, then autograd backward with dD as D's gradient.</summary>
internal sealed class TorchMatMul
{
    private readonly Tensor _w, _x, _dD;

    public TorchMatMul(int m, int k, int n, float[] w, float[] x, float[] dD)
    {
        _w = torch.tensor(w, new long[] { m, k }).requires_grad_();
        _x = torch.tensor(x, new long[] { k, n }).requires_grad_();
        _dD = torch.tensor(dD, new long[] { m, n });
    }

    public void Run(int threads)
    {
        if (torch.get_num_threads() != threads) torch.set_num_threads(threads);
        using var scope = torch.NewDisposeScope();
        _w.grad?.zero_();
        _x.grad?.zero_();
        Tensor d = _w.matmul(_x);
        d.backward(new[] { _dD });
    }

    public (float[] D, float[] DW, float[] DX) Results()
    {
        using var scope = torch.NewDisposeScope();
        _w.grad?.zero_();
        _x.grad?.zero_();
        Tensor d = _w.matmul(_x);
        d.backward(new[] { _dD });
        return (d.data<float>().ToArray(), _w.grad!.data<float>().ToArray(), _x.grad!.data<float>().ToArray());
    }
}

/// <summary>The same 64 → 32 → 10 network in TorchSharp: Sequential, cross-entropy, SGD; one step per call.</summary>
internal sealed class TorchNetwork
{
    private readonly TorchSharp.Modules.Sequential _model;
    private readonly TorchSharp.Modules.SGD _optimizer;
    private readonly Tensor _x, _y;
    private readonly Loss<Tensor, Tensor, Tensor> _loss = nn.CrossEntropyLoss();

    public TorchNetwork(float[] x, long[] y, int batch)
    {
        torch.manual_seed(1);
        _model = nn.Sequential(("0", nn.Linear(64, 32)), ("1", nn.ReLU()), ("2", nn.Linear(32, 10)));
        _optimizer = torch.optim.SGD(_model.parameters(), 0.01);
        _x = torch.tensor(x, new long[] { batch, 64 });
        _y = torch.tensor(y);
    }

    public float Step()
    {
        if (torch.get_num_threads() != 1) torch.set_num_threads(1);
        using var scope = torch.NewDisposeScope();
        _optimizer.zero_grad();
        Tensor loss = _loss.call(_model.call(_x), _y);
        loss.backward();
        _optimizer.step();
        return loss.item<float>();
    }
}
/// <summary>
/// A TorchSharp classifier on one fixed batch: the model, cross-entropy and Adam 1e-3, one training step per call. The
/// models are built by <see cref="Mlp"/> and <see cref="FashionCnn"/>, which the whole-epoch comparison uses too.
/// </summary>
internal sealed class TorchClassifier
{
    private readonly TorchSharp.Modules.Sequential _model;
    private readonly TorchSharp.Modules.Adam _optimizer;
    private readonly Tensor _x, _y;
    private readonly Loss<Tensor, Tensor, Tensor> _loss = nn.CrossEntropyLoss();

    public TorchClassifier(TorchSharp.Modules.Sequential model, float[] x, long[] inputShape, long[] y)
    {
        _model = model;
        _optimizer = torch.optim.Adam(_model.parameters(), 1e-3);
        _x = torch.tensor(x, inputShape);
        _y = torch.tensor(y);
    }

    /// <summary>Linear, ReLU, …, Linear through <paramref name="sizes"/>; PyTorch's initialisation from seed 1.</summary>
    public static TorchSharp.Modules.Sequential Mlp(int[] sizes)
    {
        torch.manual_seed(1);
        var layers = new System.Collections.Generic.List<(string, nn.Module<Tensor, Tensor>)>();
        for (int i = 0; i + 1 < sizes.Length; i++)
        {
            if (i > 0) layers.Add(($"{layers.Count}", nn.ReLU()));
            layers.Add(($"{layers.Count}", nn.Linear(sizes[i], sizes[i + 1])));
        }

        return nn.Sequential(layers);
    }

    /// <summary>The Fashion-MNIST CNN of the README (its parameters() order is StaticGrad's layout); seed 1.</summary>
    public static TorchSharp.Modules.Sequential FashionCnn()
    {
        torch.manual_seed(1);
        return nn.Sequential(
            ("0", nn.Conv2d(1, 16, 3, padding: 1)),
            ("1", nn.ReLU()),
            ("2", nn.MaxPool2d(2)),
            ("3", nn.Conv2d(16, 32, 3, padding: 1)),
            ("4", nn.ReLU()),
            ("5", nn.MaxPool2d(2)),
            ("6", nn.Flatten()),
            ("7", nn.Linear(32 * 7 * 7, 128)),
            ("8", nn.ReLU()),
            ("9", nn.Dropout(0.25)),
            ("10", nn.Linear(128, 10)));
    }

    public float Step(int threads)
    {
        if (torch.get_num_threads() != threads) torch.set_num_threads(threads);
        using var scope = torch.NewDisposeScope();
        _optimizer.zero_grad();
        Tensor loss = _loss.call(_model.call(_x), _y);
        loss.backward();
        _optimizer.step();
        return loss.item<float>();
    }

    public void ForwardBackward()
    {
        using var scope = torch.NewDisposeScope();
        _optimizer.zero_grad();
        _loss.call(_model.call(_x), _y).backward();
    }

    public void OptimizerStep()
    {
        if (torch.get_num_threads() != 1) torch.set_num_threads(1);
        _optimizer.step();
    }
}
/// <summary>
/// samples/FashionResNet's <c>ResidualBlock</c> in TorchSharp: conv 3×3 (no bias), BatchNorm2d, ReLU, conv, BatchNorm2d, add the
/// input, ReLU. The fields are named as in the C# model, so <c>state_dict</c> names are the same (<c>block1.conv1.weight</c>, …).
/// </summary>
internal sealed class TorchResidualBlock : nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Conv2d conv1, conv2;
    private readonly TorchSharp.Modules.BatchNorm2d bn1, bn2;

    public TorchResidualBlock(int channels) : base(nameof(TorchResidualBlock))
    {
        conv1 = nn.Conv2d(channels, channels, 3, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(channels);
        conv2 = nn.Conv2d(channels, channels, 3, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(channels);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        Tensor h = nn.functional.relu(bn1.call(conv1.call(x)));
        h = bn2.call(conv2.call(h));
        return nn.functional.relu(x + h);
    }
}

/// <summary>
/// samples/FashionResNet's <c>FashionResNet</c> in TorchSharp (stem conv 1→32 + BatchNorm2d + ReLU + max pool, two residual
/// blocks, max pool, Linear(32·7·7, 10)), its modules named as the C# model's fields, so StaticGrad's parameters and
/// buffers copy across by name (<see cref="CopyFrom"/>).
/// </summary>
internal sealed class TorchFashionResNet : nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Conv2d stem;
    private readonly TorchSharp.Modules.BatchNorm2d bn;
    private readonly TorchResidualBlock block1, block2;
    private readonly TorchSharp.Modules.Linear head;

    public TorchFashionResNet() : base(nameof(TorchFashionResNet))
    {
        stem = nn.Conv2d(1, 32, 3, padding: 1);
        bn = nn.BatchNorm2d(32);
        block1 = new TorchResidualBlock(32);
        block2 = new TorchResidualBlock(32);
        head = nn.Linear(32 * 7 * 7, 10);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        Tensor h = nn.functional.max_pool2d(nn.functional.relu(bn.call(stem.call(x))), 2);
        h = nn.functional.max_pool2d(block2.call(block1.call(h)), 2);
        return head.call(h.flatten(1));
    }

    /// <summary>
    /// Copies every parameter and running statistic of a StaticGrad model (flat arrays described by PyTorch names) into this
    /// module by name; throws unless the two name sets are the same and every shape's element count agrees.
    /// </summary>
    public void CopyFrom(StaticGrad.Interchange.NetworkDescription description, ReadOnlySpan<float> parameters,
        StaticGrad.Interchange.StateDescription state, ReadOnlySpan<float> buffers)
    {
        var ours = new System.Collections.Generic.Dictionary<string, (int Offset, int Count)>();
        foreach (var tensor in description.Tensors) ours.Add(tensor.Name, (tensor.Offset, tensor.Count));
        var ourBuffers = new System.Collections.Generic.Dictionary<string, (int Offset, int Count)>();
        foreach (var tensor in state.Buffers) ourBuffers.Add(tensor.Name, (tensor.Offset, tensor.Count));
        var counters = new System.Collections.Generic.HashSet<string>();
        foreach (var counter in state.Counters) counters.Add(counter.Name);
        using var noGrad = torch.no_grad();
        int copied = 0, copiedBuffers = 0;
        foreach (var (name, parameter) in named_parameters())
        {
            if (!ours.TryGetValue(name, out var at) || at.Count != parameter.numel())
            {
                throw new InvalidOperationException($"TorchSharp parameter {name} [{string.Join(", ", parameter.shape)}] has no counterpart of that size in StaticGrad's model.");
            }

            parameter.copy_(torch.tensor(parameters.Slice(at.Offset, at.Count).ToArray(), parameter.shape));
            copied++;
        }

        foreach (var (name, buffer) in named_buffers())
        {
            if (buffer.dtype != ScalarType.Float32)
            {
                if (!counters.Contains(name)) throw new InvalidOperationException($"TorchSharp counter {name} is not one of StaticGrad's.");
                continue; // num_batches_tracked: 0 in both
            }

            if (!ourBuffers.TryGetValue(name, out var at) || at.Count != buffer.numel())
            {
                throw new InvalidOperationException($"TorchSharp buffer {name} has no counterpart of that size in StaticGrad's model.");
            }

            buffer.copy_(torch.tensor(buffers.Slice(at.Offset, at.Count).ToArray(), buffer.shape));
            copiedBuffers++;
        }

        if (copied != ours.Count || copiedBuffers != ourBuffers.Count)
        {
            throw new InvalidOperationException($"Copied {copied} of StaticGrad's {ours.Count} parameter tensors and {copiedBuffers} of its {ourBuffers.Count} buffers.");
        }
    }
}

/// <summary>
/// A TorchSharp model on one fixed batch with cross-entropy and Adam: one training step (zero_grad, forward, loss,
/// backward, step) per call, on the thread count given.
/// </summary>
internal sealed class TorchTrainer
{
    private readonly nn.Module<Tensor, Tensor> _model;
    private readonly TorchSharp.Modules.Adam _optimizer;
    private readonly Tensor _x, _y;
    private readonly Loss<Tensor, Tensor, Tensor> _loss = nn.CrossEntropyLoss();

    public TorchTrainer(nn.Module<Tensor, Tensor> model, double learningRate, float[] x, long[] inputShape, long[] y)
    {
        _model = model;
        _model.train();
        _optimizer = torch.optim.Adam(_model.parameters(), learningRate);
        _x = torch.tensor(x, inputShape);
        _y = torch.tensor(y);
    }

    public float Step(int threads)
    {
        if (torch.get_num_threads() != threads) torch.set_num_threads(threads);
        using var scope = torch.NewDisposeScope();
        _optimizer.zero_grad();
        Tensor loss = _loss.call(_model.call(_x), _y);
        loss.backward();
        _optimizer.step();
        return loss.item<float>();
    }
}
#endif
