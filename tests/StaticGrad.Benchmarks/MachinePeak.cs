using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace StaticGrad.Benchmarks;

/// <summary>
/// Measures this core's float FMA peak with twelve independent accumulators (no loads, no dependencies between them), so
/// the FMA floor in the tables is this machine's and this run's, not a datasheet's: with Vector256, and with Vector512 where
/// the JIT uses it (the packed matrix products then run on Vector512, so that is the peak they are measured against).
/// </summary>
internal static class MachinePeak
{
    /// <summary>Whether the kernels take their Vector512 paths in this process.</summary>
    public static bool Vector512Used => Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

    /// <summary>The Vector256 peak (GFLOP/s), or the nominal figure where there is no FMA.</summary>
    public static double MeasureGflops() =>
        Vector256.IsHardwareAccelerated && Fma.IsSupported ? Best(iterations => Run256(iterations), 8) : FmaFloorColumn.NominalGflops;

    /// <summary>The Vector512 peak (GFLOP/s), or 0 when Vector512 is not used.</summary>
    public static double MeasureGflops512() => Vector512Used ? Best(iterations => Run512(iterations), 16) : 0;

    private static double Best(Func<long, float> run, int lanes)
    {
        double best = 0;
        for (int attempt = 0; attempt < 5; attempt++)
        {
            const long Iterations = 20_000_000;
            var clock = Stopwatch.StartNew();
            float sink = run(Iterations);
            clock.Stop();
            double flop = Iterations * 12.0 * lanes * 2;
            best = Math.Max(best, flop / clock.Elapsed.TotalSeconds / 1e9);
            GC.KeepAlive(sink);
        }

        return best;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Run256(long iterations)
    {
        var m = Vector256.Create(0.999999f);
        var c = Vector256.Create(1e-7f);
        Vector256<float> a0 = m, a1 = m, a2 = m, a3 = m, a4 = m, a5 = m, a6 = m, a7 = m, a8 = m, a9 = m, a10 = m, a11 = m;
        for (long i = 0; i < iterations; i++)
        {
            a0 = Fma.MultiplyAdd(a0, m, c);
            a1 = Fma.MultiplyAdd(a1, m, c);
            a2 = Fma.MultiplyAdd(a2, m, c);
            a3 = Fma.MultiplyAdd(a3, m, c);
            a4 = Fma.MultiplyAdd(a4, m, c);
            a5 = Fma.MultiplyAdd(a5, m, c);
            a6 = Fma.MultiplyAdd(a6, m, c);
            a7 = Fma.MultiplyAdd(a7, m, c);
            a8 = Fma.MultiplyAdd(a8, m, c);
            a9 = Fma.MultiplyAdd(a9, m, c);
            a10 = Fma.MultiplyAdd(a10, m, c);
            a11 = Fma.MultiplyAdd(a11, m, c);
        }

        var sum = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
        return Vector256.Sum(sum);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Run512(long iterations)
    {
        var m = Vector512.Create(0.999999f);
        var c = Vector512.Create(1e-7f);
        Vector512<float> a0 = m, a1 = m, a2 = m, a3 = m, a4 = m, a5 = m, a6 = m, a7 = m, a8 = m, a9 = m, a10 = m, a11 = m;
        for (long i = 0; i < iterations; i++)
        {
            a0 = Avx512F.FusedMultiplyAdd(a0, m, c);
            a1 = Avx512F.FusedMultiplyAdd(a1, m, c);
            a2 = Avx512F.FusedMultiplyAdd(a2, m, c);
            a3 = Avx512F.FusedMultiplyAdd(a3, m, c);
            a4 = Avx512F.FusedMultiplyAdd(a4, m, c);
            a5 = Avx512F.FusedMultiplyAdd(a5, m, c);
            a6 = Avx512F.FusedMultiplyAdd(a6, m, c);
            a7 = Avx512F.FusedMultiplyAdd(a7, m, c);
            a8 = Avx512F.FusedMultiplyAdd(a8, m, c);
            a9 = Avx512F.FusedMultiplyAdd(a9, m, c);
            a10 = Avx512F.FusedMultiplyAdd(a10, m, c);
            a11 = Avx512F.FusedMultiplyAdd(a11, m, c);
        }

        var sum = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
        return Vector512.Sum(sum);
    }
}
