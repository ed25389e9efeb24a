using System;
using System.Linq;
using Xunit;

namespace StaticGrad.Tests.Numerics;

/// <summary>
/// NaN and infinity in the inputs: the generated code never throws for them and never checks for them (that would cost a
/// pass over the data); they propagate exactly as IEEE arithmetic says, into the outputs that depend on them and into no
/// other. Every other output keeps its bits, and the next call with clean data gives the clean result: nothing lingers.
/// Held for each code path: straight-line, looped, SIMD kernels, and split across threads.
/// </summary>
public class NonFiniteInputTests
{
    public delegate void ForwardFloat(ReadOnlySpan<float> w, ReadOnlySpan<float> x, Span<float> d);

    public delegate void BackwardFloat(ReadOnlySpan<float> w, ReadOnlySpan<float> x, ReadOnlySpan<float> dD, Span<float> dW, Span<float> dX);

    public static TheoryData<string> Paths => new() { "unrolled", "looped", "simd", "threads", "double-unrolled" };

    [Theory]
    [MemberData(nameof(Paths))]
    public void Forward_NaNInW_PoisonsExactlyItsRowOfD(string path)
    {
        var (m, k, n, forward, _) = Get(path);
        var (w, x) = Inputs(m, k, n);
        float[] clean = Run(forward, w, x, m * n);

        int row = m / 2, column = k - 1;
        float[] poisoned = (float[])w.Clone();
        poisoned[(row * k) + column] = float.NaN;
        float[] d = Run(forward, poisoned, x, m * n);

        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                float value = d[(i * n) + j];
                if (i == row)
                {
                    Assert.True(float.IsNaN(value), $"D[{i},{j}] = {value}, expected NaN");
                }
                else
                {
                    Assert.Equal(BitConverter.SingleToInt32Bits(clean[(i * n) + j]), BitConverter.SingleToInt32Bits(value));
                }
            }
        }

        Assert.Equal(clean, Run(forward, w, x, m * n)); // nothing lingers
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Forward_InfinityInX_MakesExactlyItsColumnOfDNonFinite(string path)
    {
        var (m, k, n, forward, _) = Get(path);
        var (w, x) = Inputs(m, k, n);
        float[] clean = Run(forward, w, x, m * n);

        int row = k / 2, column = n - 1;
        float[] poisoned = (float[])x.Clone();
        poisoned[(row * n) + column] = float.PositiveInfinity;
        float[] d = Run(forward, w, poisoned, m * n);

        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                float value = d[(i * n) + j];
                if (j == column)
                {
                    // W[i,row]·∞ is ±∞ (W has no zeros), and a finite sum beside it stays ±∞.
                    Assert.Equal(Math.Sign(w[(i * k) + row]) > 0 ? float.PositiveInfinity : float.NegativeInfinity, value);
                }
                else
                {
                    Assert.Equal(BitConverter.SingleToInt32Bits(clean[(i * n) + j]), BitConverter.SingleToInt32Bits(value));
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Backward_NaNInDD_PoisonsItsRowOfDWAndItsColumnOfDX(string path)
    {
        var (m, k, n, _, backward) = Get(path);
        var (w, x) = Inputs(m, k, n);
        float[] dD = Values(m * n, seed: 3);
        var (cleanDW, cleanDX) = RunBackward(backward, w, x, dD, m, k, n);

        int row = m - 1, column = n / 2;
        float[] poisoned = (float[])dD.Clone();
        poisoned[(row * n) + column] = float.NaN;
        var (dW, dX) = RunBackward(backward, w, x, poisoned, m, k, n);

        for (int i = 0; i < m; i++)
        {
            for (int p = 0; p < k; p++)
            {
                float value = dW[(i * k) + p];
                Assert.True(i == row ? float.IsNaN(value) : value.Equals(cleanDW[(i * k) + p]), $"dW[{i},{p}] = {value}");
            }
        }

        for (int p = 0; p < k; p++)
        {
            for (int j = 0; j < n; j++)
            {
                float value = dX[(p * n) + j];
                Assert.True(j == column ? float.IsNaN(value) : value.Equals(cleanDX[(p * n) + j]), $"dX[{p},{j}] = {value}");
            }
        }
    }

    private static (int M, int K, int N, ForwardFloat Forward, BackwardFloat Backward) Get(string path) => path switch
    {
        "unrolled" => (F5x10x3.M, F5x10x3.K, F5x10x3.N, F5x10x3.Forward, F5x10x3.Backward),
        "looped" => (F7x13x5Looped.M, F7x13x5Looped.K, F7x13x5Looped.N, F7x13x5Looped.Forward, F7x13x5Looped.Backward),
        "simd" => (F33x17x9.M, F33x17x9.K, F33x17x9.N, F33x17x9.Forward, F33x17x9.Backward),
        "threads" => (F101x103x107Threads3.M, F101x103x107Threads3.K, F101x103x107Threads3.N, F101x103x107Threads3.Forward, F101x103x107Threads3.Backward),
        _ => (D9x11x13Unrolled.M, D9x11x13Unrolled.K, D9x11x13Unrolled.N, ViaDouble((DoubleForward)D9x11x13Unrolled.Forward), ViaDouble((DoubleBackward)D9x11x13Unrolled.Backward)),
    };

    public delegate void DoubleForward(ReadOnlySpan<double> w, ReadOnlySpan<double> x, Span<double> d);

    public delegate void DoubleBackward(ReadOnlySpan<double> w, ReadOnlySpan<double> x, ReadOnlySpan<double> dD, Span<double> dW, Span<double> dX);

    /// <summary>Runs a double product on float data (every float is exactly a double), so one test body covers both.</summary>
    private static ForwardFloat ViaDouble(DoubleForward forward) => (w, x, d) =>
    {
        var result = new double[d.Length];
        forward(ToDouble(w), ToDouble(x), result);
        for (int i = 0; i < d.Length; i++)
        {
            d[i] = (float)result[i];
        }
    };

    private static BackwardFloat ViaDouble(DoubleBackward backward) => (w, x, dD, dW, dX) =>
    {
        var gw = new double[dW.Length];
        var gx = new double[dX.Length];
        backward(ToDouble(w), ToDouble(x), ToDouble(dD), gw, gx);
        for (int i = 0; i < gw.Length; i++)
        {
            dW[i] = (float)gw[i];
        }

        for (int i = 0; i < gx.Length; i++)
        {
            dX[i] = (float)gx[i];
        }
    };

    private static double[] ToDouble(ReadOnlySpan<float> values)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            result[i] = values[i];
        }

        return result;
    }

    private static float[] Run(ForwardFloat forward, float[] w, float[] x, int length)
    {
        var d = new float[length];
        forward(w, x, d);
        return d;
    }

    private static (float[] DW, float[] DX) RunBackward(BackwardFloat backward, float[] w, float[] x, float[] dD, int m, int k, int n)
    {
        var dW = new float[m * k];
        var dX = new float[k * n];
        backward(w, x, dD, dW, dX);
        return (dW, dX);
    }

    private static (float[] W, float[] X) Inputs(int m, int k, int n) => (Values(m * k, seed: 1), Values(k * n, seed: 2));

    /// <summary>Values in ±[0.5, 1.5): never zero, so ∞·value is never NaN.</summary>
    private static float[] Values(int length, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)((random.NextDouble() + 0.5) * (random.Next(2) == 0 ? -1 : 1))).ToArray();
    }
}
