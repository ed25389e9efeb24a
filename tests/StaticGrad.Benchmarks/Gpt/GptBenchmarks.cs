using System;
using BenchmarkDotNet.Attributes;

namespace StaticGrad.Benchmarks.Gpt;

/// <summary>
/// One training step of nanoGPT's CPU configuration (<see cref="NanoGpt"/>: batch 12, block 64, 4 layers, 4 heads, 128 wide,
/// 65 characters, dropout 0): forward, per-position softmax cross-entropy, backward, AdamW (lr 1e-3, betas 0.9/0.99,
/// weight decay 0.1 on the tensors of 2+ dimensions, as nanoGPT's configure_optimizers). StaticGrad's generated model
/// against the same architecture in TorchSharp (<c>TorchNanoGpt</c>), which starts from StaticGrad's initial weights copied
/// across by their PyTorch names and trains on the same four batches in turn. Both on one thread and on two (StaticGrad's
/// <c>Threads = 2</c>: a second model from the same seed). The setup checks that the first steps' losses agree
/// (<c>verify-gpt</c> runs that check alone and prints them).
/// </summary>
[MemoryDiagnoser]
public class GptBenchmarks
{
    public const int Batch = 12, Block = 64, Vocabulary = 65, Width = 128, Heads = 4, Layers = 4;
    public const double LearningRate = 1e-3, Beta1 = 0.9, Beta2 = 0.99, Epsilon = 1e-8, WeightDecay = 0.1;

    /// <summary>How many fixed batches the steps cycle through.</summary>
    public const int BatchCount = 4;

    private NanoGpt _net = null!, _netTwo = null!;
    private int[][] _ids = [], _labels = [];
    private int _next, _nextTwo;
#if TORCH
    private TorchGptTrainer _torch = null!;
#endif

    /// <summary>
    /// <see cref="BatchCount"/> batches of 12 random 65-character strings (seed 7): the first 64 characters are the ids, the
    /// last 64 (each id's next character) the labels, as nanoGPT's get_batch cuts x and y from its text.
    /// </summary>
    public static (int[][] Ids, int[][] Labels) MakeBatches()
    {
        var random = new Random(7);
        var ids = new int[BatchCount][];
        var labels = new int[BatchCount][];
        for (int b = 0; b < BatchCount; b++)
        {
            ids[b] = new int[Batch * Block];
            labels[b] = new int[Batch * Block];
            for (int row = 0; row < Batch; row++)
            {
                int previous = random.Next(Vocabulary);
                for (int t = 0; t < Block; t++)
                {
                    int next = random.Next(Vocabulary);
                    ids[b][(row * Block) + t] = previous;
                    labels[b][(row * Block) + t] = next;
                    previous = next;
                }
            }
        }

        return (ids, labels);
    }

    /// <summary>StaticGrad's model from seed 1 with nanoGPT's AdamW.</summary>
    public static NanoGpt NewGenerated()
    {
        var net = new NanoGpt(seed: 1, maxBatchSize: Batch);
        net.UseAdamW(LearningRate, Beta1, Beta2, Epsilon, WeightDecay);
        return net;
    }

#if TORCH
    /// <summary>The TorchSharp peer with <paramref name="net"/>'s current parameters.</summary>
    internal static TorchGptTrainer NewTorch(NanoGpt net, int[][] ids, int[][] labels)
    {
        TorchSharp.torch.manual_seed(1);
        var model = new TorchNanoGpt();
        model.CopyFrom(NanoGpt.Description, net.Parameters);
        return new TorchGptTrainer(model, ids, labels);
    }
#endif

    [GlobalSetup]
    public void Setup()
    {
        (_ids, _labels) = MakeBatches();
        _net = NewGenerated();
#if TORCH
        _torch = NewTorch(_net, _ids, _labels);
        for (int step = 0; step < 3; step++)
        {
            float ours = Generated(), theirs = _torch.Step(1);
            if (!(Math.Abs(ours - theirs) <= 1e-4 * Math.Abs(theirs)))
            {
                throw new InvalidOperationException($"Training step {step + 1}: StaticGrad's loss {ours}, TorchSharp's {theirs}: they differ by more than 1e-4 relative.");
            }
        }
#endif
        _netTwo = NewGenerated();
        _netTwo.Threads = 2;

        // The steps really train: the loss on the fixed batches goes down.
        float first = Generated(), later = first;
        for (int i = 0; i < 4 * BatchCount; i++) later = Generated();
        if (!(later < first))
        {
            throw new InvalidOperationException($"StaticGrad training step does not train: {first} → {later}");
        }
    }

    [Benchmark(Baseline = true, Description = "StaticGrad NanoGpt TrainStep, 1 thread")]
    public float Generated()
    {
        int batch = _next;
        _next = (_next + 1) % BatchCount;
        return _net.TrainStep(_ids[batch], _labels[batch]);
    }

    [Benchmark(Description = "StaticGrad NanoGpt TrainStep, 2 threads")]
    public float GeneratedTwoThreads()
    {
        int batch = _nextTwo;
        _nextTwo = (_nextTwo + 1) % BatchCount;
        return _netTwo.TrainStep(_ids[batch], _labels[batch]);
    }

#if TORCH
    [Benchmark(Description = "TorchSharp NanoGpt step, 1 thread")]
    public float TorchOneThread() => _torch.Step(1);

    [Benchmark(Description = "TorchSharp NanoGpt step, 2 threads")]
    public float TorchTwoThreads() => _torch.Step(2);
#endif
}
