#if TORCH
using System;
using TorchSharp;
using static TorchSharp.torch;

namespace StaticGrad.Benchmarks;

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
#endif
