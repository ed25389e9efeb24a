using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using StaticGrad.Kernels;
using Xunit;
using Xunit.Abstractions;

namespace StaticGrad.Tests.Kernels;

/// <summary>
/// StaticGrad.Runtime's <see cref="Gemm"/> on its own, against a double-precision reference written here: every orientation
/// of A and B, overwrite and accumulate, with and without bias, float and double, on shapes that straddle every block
/// boundary of both algorithms (the micro-kernel's 6 rows and 16/32 columns, the direct kernels' 4 rows and 2 vectors, the
/// packed path's 72-row, 256/320-deep and 1024-column blocks) at 1, primes, and one below and above each size.
/// </summary>
/// <remarks>
/// M and K are passed at run time and N is fixed by the shape struct, as in generated Linear layers; A and B are stored with
/// leading dimensions larger than they need, so strides are exercised too. The same suite runs again in child processes
/// with AVX-512, AVX2 and all intrinsics switched off (<see cref="Numerics.InstructionSetTests"/>).
/// </remarks>
public class GemmTests(ITestOutputHelper output)
{
    private const int Leading = 1100;
    private static readonly int[] Rows = { 1, 2, 4, 5, 6, 7, 11, 13, 71, 72, 73, 145 };
    private static readonly int[] Depths = { 1, 3, 7, 8, 15, 16, 17, 31, 255, 256, 257, 319, 320, 321, 513 };
    /// <summary>Half of the products run split across two threads (by columns on the packed path, by rows otherwise).</summary>
    private static readonly WorkerTeam Team = new(2);

    private static readonly Type[] Columns =
    {
        typeof(N1), typeof(N3), typeof(N7), typeof(N8), typeof(N15), typeof(N16), typeof(N17), typeof(N31), typeof(N32), typeof(N33), typeof(N63), typeof(N1023), typeof(N1024), typeof(N1025),
    };

    [Theory]
    [InlineData(typeof(float))]
    [InlineData(typeof(double))]
    public void RandomShapes_MatchTheReference_OnEveryLayout(Type element)
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("STATICGRAD_TEST_SEED"), out int fixedSeed) ? fixedSeed : Random.Shared.Next();
        output.WriteLine($"seed {seed} (replay with STATICGRAD_TEST_SEED={seed}); packed path available: {Gemm.UsesPackedPath(1024, 1024, 1024, 4)}");
        var random = new Random(seed);
        int packed = 0, direct = 0;
        int runs = TestTier.Cases(quick: 28, full: 120); // the 16 packed cases always, then random ones
        for (int run = 0; run < runs; run++)
        {
            Type n = Columns[random.Next(Columns.Length)];
            int m = Rows[random.Next(Rows.Length)], k = Depths[random.Next(Depths.Length)];
            bool transposeA = random.Next(2) == 0, transposeB = random.Next(2) == 0, accumulate = random.Next(2) == 0, bias = random.Next(3) == 0;
            if (run < 16)
            {
                // Always include products big enough for the packed path, in every orientation.
                n = typeof(N1025);
                m = TestTier.Cases(quick: 73, full: 145); // 73 = one row block + 1, half the reference's work
                k = 321;
                transposeA = (run & 2) != 0;
                transposeB = (run & 4) != 0;
                accumulate = (run & 8) != 0;
            }

            int columns = ((IConstant)Activator.CreateInstance(n)!).Value;
            bool usesPacked = Gemm.UsesPackedPath(m, columns, k, element == typeof(float) ? 4 : 8, transposeB);
            if (usesPacked) packed++; else direct++;
            Type shape = typeof(TestShape<,,,>).MakeGenericType(n, Flag(transposeA), Flag(transposeB), Flag(accumulate));
            var check = typeof(GemmTests).GetMethod(nameof(Check), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
                .MakeGenericMethod(shape, element);
            string description = $"run {run}: M={m} N={columns} K={k} A{(transposeA ? "ᵀ" : string.Empty)} B{(transposeB ? "ᵀ" : string.Empty)}{(accumulate ? " accumulate" : string.Empty)}{(bias ? " bias" : string.Empty)} ({(usesPacked ? "packed" : "direct")}), seed {seed}";
            WorkerTeam? team = run % 2 == 1 ? Team : null;
            description += team is null ? string.Empty : ", 2 threads";
            check.Invoke(null, new object?[] { m, k, columns, transposeA, transposeB, accumulate, bias, random.Next(), description, team });
        }

        output.WriteLine($"{packed} products on the packed path, {direct} on the direct kernels");
        Assert.True(direct > 0);
        Assert.Equal(Gemm.UsesPackedPath(1024, 1024, 1024, 4), packed > 0);
    }

    /// <summary>
    /// Products whose op(B) fits in L1 but that are large and a whole sliver wide take the packed path too (Wᵀ·dD of a
    /// 128×784×32 MatMul is 784×32 from a depth of 128): every orientation, overwrite and accumulate, one and two threads.
    /// The random shapes above stay below 2²¹ multiply-adds when op(B) is that small, so they do not reach this rule.
    /// </summary>
    [Theory]
    [InlineData(typeof(float))]
    [InlineData(typeof(double))]
    public void LargeSkinnyProducts_WithBInL1_MatchTheReference(Type element)
    {
        const int M = 784, K = 128;
        Assert.Equal(PackedAvailable(), Gemm.UsesPackedPath(M, 32, K, element == typeof(float) ? 4 : 8));
        var random = new Random(11);
        for (int run = 0; run < 8; run++)
        {
            bool transposeA = (run & 1) != 0, transposeB = (run & 2) != 0, accumulate = (run & 4) != 0;
            Type shape = typeof(TestShape<,,,>).MakeGenericType(typeof(N32), Flag(transposeA), Flag(transposeB), Flag(accumulate));
            var check = typeof(GemmTests).GetMethod(nameof(Check), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
                .MakeGenericMethod(shape, element);
            string description = $"M={M} N=32 K={K} A{(transposeA ? "ᵀ" : string.Empty)} B{(transposeB ? "ᵀ" : string.Empty)}{(accumulate ? " accumulate" : string.Empty)}";
            check.Invoke(null, new object?[] { M, K, 32, transposeA, transposeB, accumulate, run == 3, random.Next(), description, run % 2 == 1 ? Team : null });
        }
    }

    /// <summary>
    /// The last rows of C, fewer than a micro-kernel's MR (12 with AVX-512, 6 with AVX2), have a tile compiled for each
    /// count: M = 73…84 gives every count from 1 to 12 after six full row blocks. For each M one product packs B as usual
    /// and one has B stored in rows of N elements, one or two slivers wide, which the packed path reads in place: with
    /// the summed dimension (1,100 here) whole while B is at most 256 KB, else in blocks (two float slivers on AVX-512).
    /// The random shapes above reach neither reliably.
    /// </summary>
    [Theory]
    [InlineData(typeof(float))]
    [InlineData(typeof(double))]
    public void EveryCountOfLastRows_AndBInShortRows_MatchTheReference(Type element)
    {
        const int K = 1100;
        int sliver = element == typeof(float) ? PackedGemm.ColumnGrain<float>() : PackedGemm.ColumnGrain<double>();
        Assert.Equal(PackedAvailable(), Gemm.UsesPackedPath(73, sliver, K, element == typeof(float) ? 4 : 8));
        var random = new Random(5);
        for (int m = 73; m <= 84; m++)
        {
            for (int tight = 0; tight < 2; tight++)
            {
                int columns = tight == 1 && m % 2 == 0 ? 2 * sliver : sliver;
                Type n = columns switch { 8 => typeof(N8), 16 => typeof(N16), 32 => typeof(N32), 64 => typeof(N64), _ => throw new InvalidOperationException($"no test type for {columns} columns") };
                bool transposeA = (m & 1) != 0, accumulate = (m & 2) != 0, bias = (m & 4) != 0 && tight == 1;
                Type shape = tight == 1
                    ? typeof(TightBShape<,,>).MakeGenericType(n, Flag(transposeA), Flag(accumulate))
                    : typeof(TestShape<,,,>).MakeGenericType(n, Flag(transposeA), typeof(No), Flag(accumulate));
                var check = typeof(GemmTests).GetMethod(nameof(Check), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
                    .MakeGenericMethod(shape, element);
                string description = $"M={m} N={columns} K={K} A{(transposeA ? "ᵀ" : string.Empty)} B{(tight == 1 ? " (rows of N, read in place)" : string.Empty)}{(accumulate ? " accumulate" : string.Empty)}{(bias ? " bias" : string.Empty)}";
                check.Invoke(null, new object?[] { m, K, columns, transposeA, false, accumulate, bias, random.Next(), description, m % 3 == 0 ? Team : null });
            }
        }
    }

    private static bool PackedAvailable() => Gemm.UsesPackedPath(1024, 1024, 1024, 4);

    private static Type Flag(bool value) => value ? typeof(Yes) : typeof(No);

    private static void Check<TShape, T>(int m, int k, int n, bool transposeA, bool transposeB, bool accumulate, bool withBias, int seed, string description, WorkerTeam? team)
        where TShape : struct, IGemmShape
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var random = new Random(seed);
        // Stored A: M rows (or K when transposed) of Leading elements; stored B: K rows (or N) of the shape's LeadingB elements.
        double[] a = Values(random, (transposeA ? k : m) * Leading);
        int ldb = default(TShape).LeadingB;
        double[] b = Values(random, (transposeB ? n : k) * ldb);
        double[] bias = Values(random, n);
        double[] c = Values(random, (m * n) + 5); // 5 guard elements after C must stay as they are
        T[] aT = a.Select(T.CreateTruncating).ToArray(), bT = b.Select(T.CreateTruncating).ToArray();
        T[] biasT = bias.Select(T.CreateTruncating).ToArray(), cT = c.Select(T.CreateTruncating).ToArray();
        T[] before = (T[])cT.Clone();
        if (withBias)
        {
            Gemm.MultiplyAddBias<TShape, T>(ref aT[0], ref bT[0], ref biasT[0], ref cT[0], team, rows: m, depth: k);
        }
        else
        {
            Gemm.Multiply<TShape, T>(ref aT[0], ref bT[0], ref cT[0], team, rows: m, depth: k);
        }

        double roundoff = typeof(T) == typeof(float) ? 1.0 / (1 << 24) : 1.0 / (1L << 53);
        double gamma = (k + 2) * roundoff / (1 - ((k + 2) * roundoff));
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double start = (accumulate ? double.CreateTruncating(before[(i * n) + j]) : 0) + (withBias ? double.CreateTruncating(biasT[j]) : 0);
                double exact = start, magnitude = Math.Abs(start);
                for (int p = 0; p < k; p++)
                {
                    double ai = double.CreateTruncating(aT[transposeA ? (p * Leading) + i : (i * Leading) + p]);
                    double bj = double.CreateTruncating(bT[transposeB ? (j * ldb) + p : (p * ldb) + j]);
                    exact += ai * bj;
                    magnitude += Math.Abs(ai * bj);
                }

                double actual = double.CreateTruncating(cT[(i * n) + j]);
                double bound = 2 * gamma * magnitude;
                if (!(Math.Abs(actual - exact) <= bound))
                {
                    Assert.Fail($"{description}: C[{i},{j}] = {actual}, expected {exact} ± {bound}");
                }
            }
        }

        for (int g = m * n; g < cT.Length; g++)
        {
            Assert.True(cT[g] == before[g], $"{description}: wrote past the end of C at {g - (m * n)}");
        }
    }

    private static double[] Values(Random random, int count) => Enumerable.Range(0, count).Select(_ => (random.NextDouble() * 2) - 1).ToArray();

    /// <summary>A product shape for these tests: N fixed by a type, M and K at run time, A and B with leading dimension 1100.</summary>
    private readonly struct TestShape<TN, TTransposeA, TTransposeB, TAccumulate> : IGemmShape
        where TN : struct, IConstant
        where TTransposeA : struct, IConstant
        where TTransposeB : struct, IConstant
        where TAccumulate : struct, IConstant
    {
        public int M => 0;

        public int N => default(TN).Value;

        public int K => 0;

        public int LeadingA => Leading;

        public int LeadingB => Leading;

        public bool TransposeA => default(TTransposeA).Value != 0;

        public bool TransposeB => default(TTransposeB).Value != 0;

        public bool Accumulate => default(TAccumulate).Value != 0;
    }

    /// <summary>Like <see cref="TestShape{TN, TTransposeA, TTransposeB, TAccumulate}"/>, but B is stored K×N with rows exactly N long.</summary>
    private readonly struct TightBShape<TN, TTransposeA, TAccumulate> : IGemmShape
        where TN : struct, IConstant
        where TTransposeA : struct, IConstant
        where TAccumulate : struct, IConstant
    {
        public int M => 0;

        public int N => default(TN).Value;

        public int K => 0;

        public int LeadingA => Leading;

        public int LeadingB => N;

        public bool TransposeA => default(TTransposeA).Value != 0;

        public bool TransposeB => false;

        public bool Accumulate => default(TAccumulate).Value != 0;
    }

    private interface IConstant
    {
        int Value { get; }
    }

    private readonly struct Yes : IConstant { public int Value => 1; }
    private readonly struct No : IConstant { public int Value => 0; }
    private readonly struct N1 : IConstant { public int Value => 1; }
    private readonly struct N3 : IConstant { public int Value => 3; }
    private readonly struct N7 : IConstant { public int Value => 7; }
    private readonly struct N8 : IConstant { public int Value => 8; }
    private readonly struct N15 : IConstant { public int Value => 15; }
    private readonly struct N16 : IConstant { public int Value => 16; }
    private readonly struct N17 : IConstant { public int Value => 17; }
    private readonly struct N31 : IConstant { public int Value => 31; }
    private readonly struct N32 : IConstant { public int Value => 32; }
    private readonly struct N33 : IConstant { public int Value => 33; }
    private readonly struct N63 : IConstant { public int Value => 63; }
    private readonly struct N64 : IConstant { public int Value => 64; }
    private readonly struct N1023 : IConstant { public int Value => 1023; }
    private readonly struct N1024 : IConstant { public int Value => 1024; }
    private readonly struct N1025 : IConstant { public int Value => 1025; }
}
