using System;
using System.Linq;
using BenchmarkDotNet.Attributes;

namespace StaticGrad.Benchmarks;

/// <summary>The Fashion-MNIST MLP of the speed issue, 784 → 128 → 10.</summary>
[Linear(784, 128), ReLU, Linear(128, 10), SoftmaxCrossEntropy]
public partial class FashionNet;

/// <summary>The same MLP written as C# code: a [Model] of two Linear fields (PyTorch's default initialisation).</summary>
[Model(Loss = Loss.SoftmaxCrossEntropy)]
public partial class FashionMlpModel
{
    readonly Linear hidden = new(784, 128), output = new(128, 10);

    public Tensor Forward([Shape(784)] Tensor x) => output.Forward(Functional.Relu(hidden.Forward(x)));
}

/// <summary>The deeper Fashion-MNIST MLP, 784 → 256 → 128 → 10.</summary>
[Linear(784, 256), ReLU, Linear(256, 128), ReLU, Linear(128, 10), SoftmaxCrossEntropy]
public partial class FashionDeepNet;

/// <summary>The CNN: two 3×3 convolutions with ReLU and 2×2 max pooling, then 1568 → 128 → 10 with dropout.</summary>
[Input(1, 28, 28), Conv2d(1, 16, 3, Padding = 1), ReLU, MaxPool2d(2), Conv2d(16, 32, 3, Padding = 1), ReLU, MaxPool2d(2),
 Flatten, Linear(32 * 7 * 7, 128), ReLU, Dropout(0.25), Linear(128, 10), SoftmaxCrossEntropy]
public partial class FashionCnnNet;

/// <summary>
/// One Fashion-MNIST training step (batch 128 of 784 pixels, Adam 1e-3): zero gradients, forward, softmax cross-entropy,
/// backward, Adam. StaticGrad's generated network against the same nn.Sequential in TorchSharp on 1 and 2 threads.
/// An epoch is 468 such steps plus the batch gathering (the same for both).
/// </summary>
[MemoryDiagnoser]
public class FashionBenchmarks
{
    private const int Batch = 128;
    private FashionNet _net = null!;
    private FashionDeepNet _deep = null!;
    private FashionMlpModel _model = null!;
    private FashionNet _netTwoThreads = null!;
    private FashionDeepNet _deepTwoThreads = null!;
    private float[] _x = [];
    private int[] _y = [];
#if TORCH
    private TorchClassifier _torch = null!;
#endif

    [Params("784-128-10", "784-256-128-10")]
    public string Network { get; set; } = "784-128-10";

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(7);
        _x = Enumerable.Range(0, Batch * 784).Select(_ => (float)random.NextDouble()).ToArray();
        _y = Enumerable.Range(0, Batch).Select(i => i % 10).ToArray();
        _net = new FashionNet(seed: 1, maxBatchSize: Batch);
        _net.UseAdam(1e-3f);
        _model = new FashionMlpModel(seed: 1, maxBatchSize: Batch);
        _model.UseAdam(1e-3f);
        _deep = new FashionDeepNet(seed: 1, maxBatchSize: Batch);
        _deep.UseAdam(1e-3f);
        _netTwoThreads = new FashionNet(seed: 1, maxBatchSize: Batch) { Threads = 2 };
        _netTwoThreads.UseAdam(1e-3f);
        _deepTwoThreads = new FashionDeepNet(seed: 1, maxBatchSize: Batch) { Threads = 2 };
        _deepTwoThreads.UseAdam(1e-3f);
        int[] sizes = Network.Split('-').Select(int.Parse).ToArray();
#if TORCH
        _torch = new TorchClassifier(TorchClassifier.Mlp(sizes), _x, [Batch, sizes[0]], _y.Select(v => (long)v).ToArray());
#endif
        // Both start near ln(10) ≈ 2.30 and must go down: the steps really train.
        float first = Generated(), later = first;
        for (int i = 0; i < 30; i++) later = Generated();
        if (!(first > 1.5f && first < 3.5f && later < first))
        {
            throw new InvalidOperationException($"StaticGrad training step does not train: {first} → {later}");
        }
#if TORCH
        float torchFirst = _torch.Step(1), torchLater = torchFirst;
        for (int i = 0; i < 30; i++) torchLater = _torch.Step(1);
        if (!(torchFirst > 1.5f && torchFirst < 3.5f && torchLater < torchFirst))
        {
            throw new InvalidOperationException($"TorchSharp training step does not train: {torchFirst} → {torchLater}");
        }
#endif
    }

    [Benchmark(Baseline = true, Description = "StaticGrad TrainStep")]
    public float Generated() => Network == "784-128-10" ? _net.TrainStep(_x, _y) : _deep.TrainStep(_x, _y);

    /// <summary>The 784-128-10 network as a [Model] (the same step; only for that shape, the deeper one has no model here).</summary>
    [Benchmark(Description = "StaticGrad [Model] TrainStep")]
    public float GeneratedModel() => Network == "784-128-10" ? _model.TrainStep(_x, _y) : float.NaN;

    [Benchmark(Description = "StaticGrad TrainStep, Threads = 2")]
    public float GeneratedTwoThreads() => Network == "784-128-10" ? _netTwoThreads.TrainStep(_x, _y) : _deepTwoThreads.TrainStep(_x, _y);

#if TORCH
    [Benchmark(Description = "TorchSharp step, 1 thread")]
    public float TorchOneThread() => _torch.Step(1);

    [Benchmark(Description = "TorchSharp step, 2 threads")]
    public float TorchTwoThreads() => _torch.Step(2);
#endif
}

/// <summary>
/// One training step of the README's Fashion-MNIST CNN (batch 128 of 1×28×28, two stride-1 convolutions, max pooling,
/// dropout, Adam 1e-3): StaticGrad's generated network on 1 and 2 threads against the same nn.Sequential in TorchSharp.
/// </summary>
[MemoryDiagnoser]
public class FashionCnnBenchmarks
{
    private const int Batch = 128;
    private FashionCnnNet _net = null!;
    private FashionCnnNet _netTwoThreads = null!;
    private float[] _x = [];
    private byte[] _y = [];
#if TORCH
    private TorchClassifier _torch = null!;
#endif

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(7);
        _x = Enumerable.Range(0, Batch * 784).Select(_ => (float)random.NextDouble()).ToArray();
        _y = Enumerable.Range(0, Batch).Select(i => (byte)(i % 10)).ToArray();
        _net = new FashionCnnNet(seed: 1, maxBatchSize: Batch);
        _net.UseAdam(1e-3);
        _netTwoThreads = new FashionCnnNet(seed: 1, maxBatchSize: Batch) { Threads = 2 };
        _netTwoThreads.UseAdam(1e-3);
#if TORCH
        _torch = new TorchClassifier(TorchClassifier.FashionCnn(), _x, [Batch, 1, 28, 28], _y.Select(v => (long)v).ToArray());
#endif
        // Both start a little above ln(10) ≈ 2.30 (random initial weights on random images) and must go down: the steps really train.
        float first = Generated(), later = first;
        for (int i = 0; i < 20; i++) later = Generated();
        if (!(first > 1.5f && first < 6f && later < first))
        {
            throw new InvalidOperationException($"StaticGrad training step does not train: {first} → {later}");
        }
#if TORCH
        float torchFirst = _torch.Step(1), torchLater = torchFirst;
        for (int i = 0; i < 20; i++) torchLater = _torch.Step(1);
        if (!(torchFirst > 1.5f && torchFirst < 6f && torchLater < torchFirst))
        {
            throw new InvalidOperationException($"TorchSharp training step does not train: {torchFirst} → {torchLater}");
        }
#endif
    }

    [Benchmark(Baseline = true, Description = "StaticGrad CNN TrainStep")]
    public float Generated() => _net.TrainStep(_x, _y);

    [Benchmark(Description = "StaticGrad CNN TrainStep, Threads = 2")]
    public float GeneratedTwoThreads() => _netTwoThreads.TrainStep(_x, _y);

#if TORCH
    [Benchmark(Description = "TorchSharp CNN step, 1 thread")]
    public float TorchOneThread() => _torch.Step(1);

    [Benchmark(Description = "TorchSharp CNN step, 2 threads")]
    public float TorchTwoThreads() => _torch.Step(2);
#endif
}

/// <summary>Adam alone on the 101,770 parameters of the 784 → 128 → 10 MLP: <c>Step()</c> after one backward pass.</summary>
[MemoryDiagnoser]
public class OptimizerBenchmarks
{
    private FashionNet _net = null!;
    private float[] _x = [];
    private int[] _y = [];
#if TORCH
    private TorchClassifier _torch = null!;
#endif

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(7);
        _x = Enumerable.Range(0, 128 * 784).Select(_ => (float)random.NextDouble()).ToArray();
        _y = Enumerable.Range(0, 128).Select(i => i % 10).ToArray();
        _net = new FashionNet(seed: 1, maxBatchSize: 128);
        _net.UseAdam(1e-3f);
        _net.TrainStep(_x, _y);
        _net.Forward(_x, new float[128 * 10]);
        _net.Backward(new float[128 * 10].Select((_, i) => (float)Math.Sin(i)).ToArray());
#if TORCH
        _torch = new TorchClassifier(TorchClassifier.Mlp([784, 128, 10]), _x, [128, 784], _y.Select(v => (long)v).ToArray());
        _torch.Step(1);
        _torch.ForwardBackward();
#endif
    }

    [Benchmark(Baseline = true, Description = "StaticGrad Adam Step(), 101,770 parameters")]
    public void Generated() => _net.Step();

#if TORCH
    [Benchmark(Description = "TorchSharp Adam step(), 1 thread")]
    public void Torch() => _torch.OptimizerStep();
#endif
}
