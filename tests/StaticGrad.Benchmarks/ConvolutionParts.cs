using System;
using System.Diagnostics;
using StaticGrad.Kernels;

namespace StaticGrad.Benchmarks;

/// <summary>
/// <c>profile-conv</c>: PlaneConvolution's forward pass, weight gradient and input gradient apart, on the FashionResNet block's
/// Conv2d(32, 32, 3, padding 1) over 32×14×14 at batch 64 (and the stem's 1→32 on 28×28), one thread, best of 7 × 10 calls,
/// with GFLOP/s counted on the real positions (2·out·in·9·H·W per example).
///   dotnet run -c Release --project tests/StaticGrad.Benchmarks -- profile-conv
/// </summary>
internal static class ConvolutionParts
{
    public static int Run(string[] args)
    {
        Console.WriteLine($"PlaneConvolution parts, one thread, {(System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "Vector512" : "Vector256")} (best of 7 × 10 calls, µs per call):");
        Measure(new PlaneConvolutionShape(32, 14, 14, 32, 3, 1), 64);
        Measure(new PlaneConvolutionShape(1, 28, 28, 32, 3, 1), 64);
        return 0;
    }

    private static void Measure(PlaneConvolutionShape shape, int batch)
    {
        var random = new Random(1);
        float[] x = Values(random, batch * shape.InputSize), w = Values(random, shape.WeightCount), y = new float[batch * shape.OutputSize];
        float[] dy = Values(random, y.Length), dw = new float[w.Length], dx = new float[x.Length];
        var workspace = new PlaneConvolutionWorkspace<float>(shape);
        double flops = 2.0 * shape.OutChannels * shape.InChannels * shape.Kernel * shape.Kernel * shape.OutHeight * shape.OutWidth * batch;
        double forward = Best(() => PlaneConvolution.Forward<float>(shape, x, batch, w, default, y, workspace));
        double weights = Best(() => PlaneConvolution.Backward<float>(shape, x, dy, batch, w, dw, default, true, default, workspace));
        double both = Best(() => PlaneConvolution.Backward<float>(shape, x, dy, batch, w, dw, default, true, dx, workspace));
        Console.WriteLine($"{shape}, batch {batch}:");
        Console.WriteLine($"{forward,9:F1}  forward           {flops / forward / 1e3,6:F1} GFLOP/s");
        Console.WriteLine($"{weights,9:F1}  ∂W                {flops / weights / 1e3,6:F1} GFLOP/s");
        Console.WriteLine($"{both - weights,9:F1}  ∂X (∂W+∂X − ∂W)   {flops / (both - weights) / 1e3,6:F1} GFLOP/s");
        Console.WriteLine($"{both,9:F1}  backward (∂W+∂X)");
    }

    private static float[] Values(Random random, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)((random.NextDouble() * 2) - 1);
        return values;
    }

    private static double Best(Action action)
    {
        long warm = Stopwatch.GetTimestamp(); // a second of calls first, so every method has reached its optimised tier
        while (Stopwatch.GetElapsedTime(warm).TotalSeconds < 1) action();
        double best = double.MaxValue;
        for (int round = 0; round < 7; round++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < 10; i++) action();
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalMicroseconds / 10);
        }

        return best;
    }
}
