using System;
using System.Linq;
using BenchmarkDotNet.Attributes;

namespace StaticGrad.Benchmarks;

/// <summary>
/// One training step of [Linear(64, 32), ReLU, Linear(32, 10), SoftmaxCrossEntropy] on a batch of 32 with SGD:
/// zero gradients, forward, loss, backward, update. Generated code against the same network in TorchSharp (1 thread).
/// </summary>
[MemoryDiagnoser]
public class NetworkBenchmarks
{
    private const int Batch = 32;
    private DigitNet _net = null!;
    private float[] _x = [];
    private int[] _y = [];
#if TORCH
    private TorchNetwork _torch = null!;
#endif

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(7);
        _x = MatMulBenchmarks.Randn(random, Batch * 64);
        _y = Enumerable.Range(0, Batch).Select(i => i % 10).ToArray();
        _net = new DigitNet(seed: 1, maxBatchSize: Batch);
        _net.UseSgd(0.01f);
#if TORCH
        _torch = new TorchNetwork(_x, _y.Select(v => (long)v).ToArray(), Batch);
#endif
        // Both start near ln(10) ≈ 2.30 and must go down: the steps really train.
        float first = _net.TrainStep(_x, _y);
        float later = first;
        for (int i = 0; i < 50; i++) later = _net.TrainStep(_x, _y);
        if (!(first > 1.5f && first < 3.5f && later < first))
        {
            throw new InvalidOperationException($"StaticGrad training step does not train: {first} → {later}");
        }
#if TORCH
        float torchFirst = _torch.Step();
        float torchLater = torchFirst;
        for (int i = 0; i < 50; i++) torchLater = _torch.Step();
        if (!(torchFirst > 1.5f && torchFirst < 3.5f && torchLater < torchFirst))
        {
            throw new InvalidOperationException($"TorchSharp training step does not train: {torchFirst} → {torchLater}");
        }
#endif
    }

    [Benchmark(Baseline = true, Description = "StaticGrad TrainStep (generated)")]
    public float Generated() => _net.TrainStep(_x, _y);

#if TORCH
    [Benchmark(Description = "TorchSharp step, 1 thread")]
    public float TorchSharp() => _torch.Step();
#endif
}
