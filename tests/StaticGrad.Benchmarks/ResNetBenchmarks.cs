using System;
using System.Linq;
using BenchmarkDotNet.Attributes;
using StaticGrad.Samples.FashionResNet;

namespace StaticGrad.Benchmarks;

/// <summary>
/// One training step of samples/FashionResNet's model written as C# (stem conv 1→32 + BatchNorm + ReLU + max pool, two
/// residual blocks of 32 channels with BatchNorm, max pool, Linear(1568, 10)): forward in training mode, softmax
/// cross-entropy, backward, Adam 1e-3, on a batch of 64 random 28×28 images. StaticGrad's generated <see cref="FashionResNet"/>
/// against the same architecture in TorchSharp (<c>TorchFashionResNet</c>), which starts from StaticGrad's initial weights
/// copied across by their PyTorch names; one thread each. The setup checks that the first step's losses agree within 1e-4
/// (<c>verify-resnet</c> runs that check alone).
/// </summary>
[MemoryDiagnoser]
public class ResNetBenchmarks
{
    public const int Batch = 64;
    public const double LearningRate = 1e-3;
    private FashionResNet _net = null!;
    private float[] _x = [];
    private int[] _y = [];
#if TORCH
    private TorchTrainer _torch = null!;
#endif

    /// <summary>The benchmark's batch: 64 images of uniform random pixels (seed 7), labels 0–9 in turn.</summary>
    public static (float[] X, int[] Y) MakeBatch()
    {
        var random = new Random(7);
        return (Enumerable.Range(0, Batch * FashionResNet.InputSize).Select(_ => (float)random.NextDouble()).ToArray(),
            Enumerable.Range(0, Batch).Select(i => i % 10).ToArray());
    }

    public static FashionResNet NewGenerated()
    {
        var net = new FashionResNet(seed: 1, maxBatchSize: Batch);
        net.UseAdam(LearningRate);
        return net;
    }

#if TORCH
    /// <summary>The TorchSharp peer with <paramref name="net"/>'s current parameters and running statistics, on one thread.</summary>
    internal static TorchTrainer NewTorch(FashionResNet net, float[] x, int[] y)
    {
        TorchSharp.torch.set_num_threads(1);
        var model = new TorchFashionResNet();
        model.CopyFrom(FashionResNet.Description, net.Parameters, FashionResNet.State, net.Buffers);
        return new TorchTrainer(model, LearningRate, x, [Batch, 1, 28, 28], y.Select(v => (long)v).ToArray());
    }
#endif

    [GlobalSetup]
    public void Setup()
    {
        (_x, _y) = MakeBatch();
        _net = NewGenerated();
#if TORCH
        _torch = NewTorch(_net, _x, _y);
        float ours = _net.TrainStep(_x, _y), theirs = _torch.Step(1);
        if (!(Math.Abs(ours - theirs) <= 1e-4))
        {
            throw new InvalidOperationException($"First training step: StaticGrad's loss {ours}, TorchSharp's {theirs}: they differ by more than 1e-4.");
        }
#endif
        // The steps really train: the loss on the fixed batch goes down.
        float first = Generated(), later = first;
        for (int i = 0; i < 20; i++) later = Generated();
        if (!(later < first))
        {
            throw new InvalidOperationException($"StaticGrad training step does not train: {first} → {later}");
        }
#if TORCH
        float torchFirst = TorchOneThread(), torchLater = torchFirst;
        for (int i = 0; i < 20; i++) torchLater = TorchOneThread();
        if (!(torchLater < torchFirst))
        {
            throw new InvalidOperationException($"TorchSharp training step does not train: {torchFirst} → {torchLater}");
        }
#endif
    }

    [Benchmark(Baseline = true, Description = "StaticGrad FashionResNet TrainStep")]
    public float Generated() => _net.TrainStep(_x, _y);

#if TORCH
    [Benchmark(Description = "TorchSharp FashionResNet step, 1 thread")]
    public float TorchOneThread() => _torch.Step(1);
#endif
}
