using System;
using System.Linq;
using BenchmarkDotNet.Attributes;
using StaticGrad;
#if TORCH
using TorchSharp;
using static TorchSharp.torch;
#endif

namespace StaticGrad.Benchmarks;

/// <summary>The benchmarked forecaster: a two-layer GRU over 32 steps of 8 variables, its last state through a Linear head.</summary>
[Model(Loss = Loss.MeanSquaredError)]
public partial class BenchmarkForecaster
{
    readonly GRU gru = new(8, 64, numLayers: 2);
    readonly Linear head = new(64, 8);

    public StaticGrad.Tensor Forward([Shape(32, 8)] StaticGrad.Tensor window)
    {
        var (output, _) = gru.Forward(window);
        return head.Forward(output.Narrow(0, 31, 1).Flatten());
    }
}

/// <summary>
/// One training step of a GRU forecaster (2 layers of 64 over 32 steps of 8 variables, Linear(64, 8), mean squared error,
/// Adam 1e-3) on a batch of 64 windows: StaticGrad's generated <see cref="BenchmarkForecaster"/> against the same modules in
/// TorchSharp (<c>nn.GRU(batch_first: true)</c>, cuDNN-free CPU kernels), which starts from StaticGrad's initial weights
/// copied across by their PyTorch names. The setup checks that the first step's losses agree within 1e-4 relative.
///   dotnet run -c Release --project tests/StaticGrad.Benchmarks -p:Torch=true -- --filter '*GruBenchmarks*'
/// </summary>
[MemoryDiagnoser]
public class GruBenchmarks
{
    public const int Batch = 64;
    public const double LearningRate = 1e-3;
    private BenchmarkForecaster _net = null!;
    private float[] _x = [], _y = [];
#if TORCH
    private TorchGruTrainer _torch = null!;
#endif

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(3);
        _x = Enumerable.Range(0, Batch * BenchmarkForecaster.InputSize).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        _y = Enumerable.Range(0, Batch * BenchmarkForecaster.OutputSize).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        _net = new BenchmarkForecaster(seed: 1, maxBatchSize: Batch);
        _net.UseAdam(LearningRate);
#if TORCH
        _torch = new TorchGruTrainer(BenchmarkForecaster.Description, _net.Parameters, _x, _y, LearningRate);
        for (int step = 0; step < 3; step++)
        {
            float ours = _net.TrainStep(_x, _y), theirs = _torch.Step(1);
            if (!(Math.Abs(ours - theirs) <= 1e-4 * Math.Abs(theirs)))
            {
                throw new InvalidOperationException($"Training step {step}: StaticGrad's loss {ours}, TorchSharp's {theirs}: they differ by more than 1e-4 relative.");
            }
        }
#endif
        float first = Generated(), later = first;
        for (int i = 0; i < 20; i++) later = Generated();
        if (!(later < first))
        {
            throw new InvalidOperationException($"StaticGrad training step does not train: {first} → {later}");
        }
    }

    [Benchmark(Baseline = true, Description = "StaticGrad GRU forecaster TrainStep")]
    public float Generated() => _net.TrainStep(_x, _y);

#if TORCH
    [Benchmark(Description = "TorchSharp GRU forecaster step, 1 thread")]
    public float TorchOneThread() => _torch.Step(1);

    [Benchmark(Description = "TorchSharp GRU forecaster step, 2 threads")]
    public float TorchTwoThreads() => _torch.Step(2);
#endif
}

#if TORCH
/// <summary>The forecaster in TorchSharp: nn.GRU(8, 64, 2, batch_first) and nn.Linear(64, 8), MSE, Adam.</summary>
internal sealed class TorchGruForecaster : nn.Module<torch.Tensor, torch.Tensor>
{
    private readonly TorchSharp.Modules.GRU gru;
    private readonly TorchSharp.Modules.Linear head;

    public TorchGruForecaster() : base(nameof(TorchGruForecaster))
    {
        gru = nn.GRU(8, 64, numLayers: 2, batchFirst: true);
        head = nn.Linear(64, 8);
        RegisterComponents();
    }

    public override torch.Tensor forward(torch.Tensor x)
    {
        var (output, _) = gru.call(x);
        return head.call(output.select(1, -1));
    }
}

internal sealed class TorchGruTrainer
{
    private readonly TorchGruForecaster _model = new();
    private readonly TorchSharp.Modules.Adam _optimizer;
    private readonly torch.Tensor _x, _y;

    public TorchGruTrainer(StaticGrad.Interchange.NetworkDescription description, ReadOnlySpan<float> parameters, float[] x, float[] y, double learningRate)
    {
        torch.set_num_threads(1);
        using (torch.no_grad())
        {
            foreach (var (name, parameter) in _model.named_parameters())
            {
                var tensor = description.Tensors.Single(t => t.Name == name);
                parameter.copy_(torch.tensor(parameters.Slice(tensor.Offset, tensor.Count).ToArray(), parameter.shape));
            }
        }

        _model.train();
        _optimizer = torch.optim.Adam(_model.parameters(), learningRate);
        _x = torch.tensor(x, new long[] { GruBenchmarks.Batch, 32, 8 });
        _y = torch.tensor(y, new long[] { GruBenchmarks.Batch, 8 });
    }

    public float Step(int threads)
    {
        if (torch.get_num_threads() != threads) torch.set_num_threads(threads);
        using var scope = torch.NewDisposeScope();
        _optimizer.zero_grad();
        torch.Tensor loss = nn.functional.mse_loss(_model.call(_x), _y);
        loss.backward();
        _optimizer.step();
        return loss.item<float>();
    }
}
#endif
