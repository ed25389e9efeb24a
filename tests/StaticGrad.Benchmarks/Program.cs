// StaticGrad's speed against its peers, in one BenchmarkDotNet run.
//   dotnet run -c Release --project tests/StaticGrad.Benchmarks -p:Torch=true -- --filter '*'
// Whole Fashion-MNIST epochs against TorchSharp (needs the dataset, see samples/FashionMnist):
//   dotnet run -c Release --project tests/StaticGrad.Benchmarks -p:Torch=true -- fashion-epochs [folder] [epochs] [mlp|deep|cnn] [threads]
// One FashionResNet training step (the model written as C#) against TorchSharp: the first step's losses compared, then timed,
// then StaticGrad's step broken down per generated op:
//   dotnet run -c Release --project tests/StaticGrad.Benchmarks -p:Torch=true -- verify-resnet [steps]
//   dotnet run -c Release --project tests/StaticGrad.Benchmarks -p:Torch=true -- time-resnet [rounds]
//   dotnet run -c Release --project tests/StaticGrad.Benchmarks -p:Torch=true -- --filter '*ResNetBenchmarks*'
//   dotnet run -c Release --project tests/StaticGrad.Benchmarks -- profile-resnet
// nanoGPT's CPU configuration (batch 12, block 64, 4 layers, 4 heads, 128 wide) against TorchSharp: losses compared step by step,
// the three steps timed in alternating rounds, BenchmarkDotNet, and StaticGrad's step broken down per kind of op:
//   dotnet run -c Release --project tests/StaticGrad.Benchmarks -p:Torch=true -- verify-gpt [steps]
//   dotnet run -c Release --project tests/StaticGrad.Benchmarks -p:Torch=true -- time-gpt [rounds]
//   dotnet run -c Release --project tests/StaticGrad.Benchmarks -p:Torch=true -- --filter '*GptBenchmarks*'
//   dotnet run -c Release --project tests/StaticGrad.Benchmarks -p:Torch=true -- profile-gpt [--nodes] [--threads N]
// PlaneConvolution's forward pass, weight and input gradients apart, on the ResNet's shapes:
//   dotnet run -c Release --project tests/StaticGrad.Benchmarks -- profile-conv
// Without -p:Torch=true the TorchSharp columns are left out (no native download).
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using StaticGrad.Benchmarks;

#if TORCH
if (args.Length > 0 && args[0] == "fashion-epochs")
{
    return FashionEpochs.Run(args);
}

if (args.Length > 0 && args[0] == "verify-resnet")
{
    return ResNetCheck.Verify(args);
}

if (args.Length > 0 && args[0] == "time-resnet")
{
    return ResNetCheck.Time(args);
}

if (args.Length > 0 && args[0] == "verify-gpt")
{
    return StaticGrad.Benchmarks.Gpt.GptCheck.Verify(args);
}

if (args.Length > 0 && args[0] == "time-gpt")
{
    return StaticGrad.Benchmarks.Gpt.GptCheck.Time(args);
}
#endif

if (args.Length > 0 && args[0] == "profile-conv")
{
    return ConvolutionParts.Run(args);
}

if (args.Length > 0 && args[0] == "profile-resnet")
{
    return ResNetCheck.Profile(args);
}

if (args.Length > 0 && args[0] == "profile-gpt")
{
    return StaticGrad.Benchmarks.Gpt.GptCheck.Profile(args);
}

double peak256 = MachinePeak.MeasureGflops(), peak512 = MachinePeak.MeasureGflops512();
FmaFloorColumn.PeakGflops = System.Math.Max(peak256, peak512);
System.Console.WriteLine($"Measured single-core float FMA peak (12 independent accumulators): Vector256 {peak256:F1} GFLOP/s"
    + (MachinePeak.Vector512Used ? $", Vector512 {peak512:F1} GFLOP/s (the FMA floor column uses this one)" : " (Vector512 not used)"));

// In-process: TorchSharp's native library is patched in this project's own output folder (see the .csproj),
// and BenchmarkDotNet's per-benchmark rebuild would copy the unpatched one again.
var job = Job.Default
    .WithToolchain(InProcessEmitToolchain.Instance)
    .WithWarmupCount(3)
    .WithIterationCount(12);
var config = DefaultConfig.Instance
    .AddJob(job)
    .AddColumn(new FmaFloorColumn())
    .WithSummaryStyle(BenchmarkDotNet.Reports.SummaryStyle.Default.WithRatioStyle(RatioStyle.Trend))
    .WithOrderer(new BenchmarkDotNet.Order.DefaultOrderer(BenchmarkDotNet.Order.SummaryOrderPolicy.Declared));

BenchmarkSwitcher.FromAssembly(typeof(MatMulBenchmarks).Assembly).Run(args, config);
return 0;
