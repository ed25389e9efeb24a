using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;

namespace StaticGrad.Tests.Numerics;

internal delegate void ForwardF(ReadOnlySpan<float> w, ReadOnlySpan<float> x, Span<float> d);
internal delegate void BackwardF(ReadOnlySpan<float> w, ReadOnlySpan<float> x, ReadOnlySpan<float> dD, Span<float> dW, Span<float> dX);
internal delegate void ForwardD(ReadOnlySpan<double> w, ReadOnlySpan<double> x, Span<double> d);
internal delegate void BackwardD(ReadOnlySpan<double> w, ReadOnlySpan<double> x, ReadOnlySpan<double> dD, Span<double> dW, Span<double> dX);

/// <summary>
/// Generated Forward/Backward against the independent double reference in <see cref="Reference"/>
/// (tolerance stated and justified there), and a centered finite-difference check of the gradients.
/// </summary>
public class NumericTests
{
    private sealed record FloatCase(int M, int K, int N, (int M, int K, int N) Generated, ForwardF Forward, BackwardF Backward);

    private sealed record DoubleCase(int M, int K, int N, (int M, int K, int N) Generated, ForwardD Forward, BackwardD Backward);

    // The shape on the left is written here by hand; the one in the middle is what the generated constants say.
    private static readonly Dictionary<string, FloatCase> FloatCases = new()
    {
        ["1x1x1"] = new(1, 1, 1, (F1x1x1.M, F1x1x1.K, F1x1x1.N), F1x1x1.Forward, F1x1x1.Backward),
        ["5x10x3"] = new(5, 10, 3, (F5x10x3.M, F5x10x3.K, F5x10x3.N), F5x10x3.Forward, F5x10x3.Backward),
        ["7x13x5"] = new(7, 13, 5, (F7x13x5.M, F7x13x5.K, F7x13x5.N), F7x13x5.Forward, F7x13x5.Backward),
        ["16x16x16"] = new(16, 16, 16, (F16x16x16.M, F16x16x16.K, F16x16x16.N), F16x16x16.Forward, F16x16x16.Backward),
        ["33x17x9"] = new(33, 17, 9, (F33x17x9.M, F33x17x9.K, F33x17x9.N), F33x17x9.Forward, F33x17x9.Backward),
        ["64x64x64"] = new(64, 64, 64, (F64x64x64.M, F64x64x64.K, F64x64x64.N), F64x64x64.Forward, F64x64x64.Backward),
        ["512x512x512"] = new(512, 512, 512, (F512x512x512.M, F512x512x512.K, F512x512x512.N), F512x512x512.Forward, F512x512x512.Backward),
        ["7x13x5 looped"] = new(7, 13, 5, (F7x13x5Looped.M, F7x13x5Looped.K, F7x13x5Looped.N), F7x13x5Looped.Forward, F7x13x5Looped.Backward),
        ["9x11x13 unrolled"] = new(9, 11, 13, (F9x11x13Unrolled.M, F9x11x13Unrolled.K, F9x11x13Unrolled.N), F9x11x13Unrolled.Forward, F9x11x13Unrolled.Backward),
        ["128x784x32 on 2 threads"] = new(128, 784, 32, (F128x784x32Threads2.M, F128x784x32Threads2.K, F128x784x32Threads2.N), F128x784x32Threads2.Forward, F128x784x32Threads2.Backward),
        ["101x103x107 on 3 threads"] = new(101, 103, 107, (F101x103x107Threads3.M, F101x103x107Threads3.K, F101x103x107Threads3.N), F101x103x107Threads3.Forward, F101x103x107Threads3.Backward),
    };

    private static readonly Dictionary<string, DoubleCase> DoubleCases = new()
    {
        ["1x1x1"] = new(1, 1, 1, (D1x1x1.M, D1x1x1.K, D1x1x1.N), D1x1x1.Forward, D1x1x1.Backward),
        ["5x10x3"] = new(5, 10, 3, (D5x10x3.M, D5x10x3.K, D5x10x3.N), D5x10x3.Forward, D5x10x3.Backward),
        ["7x13x5"] = new(7, 13, 5, (D7x13x5.M, D7x13x5.K, D7x13x5.N), D7x13x5.Forward, D7x13x5.Backward),
        ["16x16x16"] = new(16, 16, 16, (D16x16x16.M, D16x16x16.K, D16x16x16.N), D16x16x16.Forward, D16x16x16.Backward),
        ["33x17x9"] = new(33, 17, 9, (D33x17x9.M, D33x17x9.K, D33x17x9.N), D33x17x9.Forward, D33x17x9.Backward),
        ["64x64x64"] = new(64, 64, 64, (D64x64x64.M, D64x64x64.K, D64x64x64.N), D64x64x64.Forward, D64x64x64.Backward),
        ["7x13x5 looped"] = new(7, 13, 5, (D7x13x5Looped.M, D7x13x5Looped.K, D7x13x5Looped.N), D7x13x5Looped.Forward, D7x13x5Looped.Backward),
        ["9x11x13 unrolled"] = new(9, 11, 13, (D9x11x13Unrolled.M, D9x11x13Unrolled.K, D9x11x13Unrolled.N), D9x11x13Unrolled.Forward, D9x11x13Unrolled.Backward),
        ["101x103x107 on 2 threads"] = new(101, 103, 107, (D101x103x107Threads2.M, D101x103x107Threads2.K, D101x103x107Threads2.N), D101x103x107Threads2.Forward, D101x103x107Threads2.Backward),
    };

    public static TheoryData<string> FloatShapes => new(FloatCases.Keys);

    public static TheoryData<string> DoubleShapes => new(DoubleCases.Keys);

    [Theory]
    [MemberData(nameof(FloatShapes))]
    public void Float_MatchesDoubleReference(string shape)
    {
        var c = FloatCases[shape];
        Assert.Equal((c.M, c.K, c.N), c.Generated);
        var random = new Random(Seed(c.M, c.K, c.N, 1));

        // Inputs are rounded to float first, so the reference sees exactly the numbers the generated code sees.
        float[] w = Reference.ToFloat(Reference.Randn(random, c.M * c.K));
        float[] x = Reference.ToFloat(Reference.Randn(random, c.K * c.N));
        float[] dD = Reference.ToFloat(Reference.Randn(random, c.M * c.N));
        float[] d = new float[c.M * c.N], dW = new float[c.M * c.K], dX = new float[c.K * c.N];
        FillWithGarbage(d, dW, dX);

        c.Forward(w, x, d);
        c.Backward(w, x, dD, dW, dX);

        double[] wd = Reference.ToDouble(w), xd = Reference.ToDouble(x), dDd = Reference.ToDouble(dD);
        Reference.AssertClose("D", Reference.ToDouble(d), Reference.Forward(wd, xd, c.M, c.K, c.N), c.N, c.K, Reference.FloatRoundoff, shape);
        Reference.AssertClose("dW", Reference.ToDouble(dW), Reference.GradW(xd, dDd, c.M, c.K, c.N), c.K, c.N, Reference.FloatRoundoff, shape);
        Reference.AssertClose("dX", Reference.ToDouble(dX), Reference.GradX(wd, dDd, c.M, c.K, c.N), c.N, c.M, Reference.FloatRoundoff, shape);
    }

    [Theory]
    [MemberData(nameof(DoubleShapes))]
    public void Double_MatchesDoubleReference(string shape)
    {
        var c = DoubleCases[shape];
        Assert.Equal((c.M, c.K, c.N), c.Generated);
        var random = new Random(Seed(c.M, c.K, c.N, 2));
        double[] w = Reference.Randn(random, c.M * c.K);
        double[] x = Reference.Randn(random, c.K * c.N);
        double[] dD = Reference.Randn(random, c.M * c.N);
        double[] d = new double[c.M * c.N], dW = new double[c.M * c.K], dX = new double[c.K * c.N];
        FillWithGarbage(d, dW, dX);

        c.Forward(w, x, d);
        c.Backward(w, x, dD, dW, dX);

        Reference.AssertClose("D", d, Reference.Forward(w, x, c.M, c.K, c.N), c.N, c.K, Reference.DoubleRoundoff, shape);
        Reference.AssertClose("dW", dW, Reference.GradW(x, dD, c.M, c.K, c.N), c.K, c.N, Reference.DoubleRoundoff, shape);
        Reference.AssertClose("dX", dX, Reference.GradX(w, dD, c.M, c.K, c.N), c.N, c.M, Reference.DoubleRoundoff, shape);
    }

    /// <summary>
    /// CS231n's gradient check on L(W, X) = Σ G⊙D with D = W·X and a random G, so ∂L/∂D = G and Backward(w, x, G)
    /// must give ∂L/∂W and ∂L/∂X. Numeric: (L(θ+h) − L(θ−h)) / 2h. L is linear in each single element, so the
    /// centered difference is exact for any h (no truncation error); h = 0.5 keeps the rounding of L, divided by 2h,
    /// far below the gradients (a small h made gradients near 1e-3 fail on rounding alone). Relative error
    /// |a − n| / max(|a|, |n|) must be below 1e-7.
    /// </summary>
    [Theory]
    [InlineData("1x1x1")]
    [InlineData("5x10x3")]
    [InlineData("7x13x5")]
    [InlineData("16x16x16")]
    [InlineData("33x17x9")]
    [InlineData("64x64x64")]
    [InlineData("7x13x5 looped")]
    [InlineData("9x11x13 unrolled")]
    public void Double_GradientsMatchCenteredFiniteDifferences(string shape)
    {
        var c = DoubleCases[shape];
        var random = new Random(Seed(c.M, c.K, c.N, 3));
        double[] w = Reference.Randn(random, c.M * c.K);
        double[] x = Reference.Randn(random, c.K * c.N);
        double[] g = Reference.Randn(random, c.M * c.N);
        double[] dW = new double[w.Length], dX = new double[x.Length], d = new double[g.Length];
        c.Backward(w, x, g, dW, dX);

        double Loss()
        {
            c.Forward(w, x, d);
            double sum = 0;
            for (int e = 0; e < d.Length; e++)
            {
                sum += g[e] * d[e];
            }

            return sum;
        }

        const double h = 0.5;
        var checkedCount = 0;
        foreach (var (name, parameters, analytic) in new[] { ("W", w, dW), ("X", x, dX) })
        {
            // Every element for small shapes, 300 sampled ones for large.
            IEnumerable<int> indices = parameters.Length <= 1200
                ? Enumerable.Range(0, parameters.Length)
                : Enumerable.Range(0, 300).Select(_ => random.Next(parameters.Length));
            foreach (int e in indices)
            {
                double saved = parameters[e];
                parameters[e] = saved + h;
                double plus = Loss();
                parameters[e] = saved - h;
                double minus = Loss();
                parameters[e] = saved;

                double numeric = (plus - minus) / (2 * h);
                double scale = Math.Max(Math.Abs(analytic[e]), Math.Abs(numeric));
                double relative = scale < 1e-9 ? 0 : Math.Abs(analytic[e] - numeric) / scale;
                Assert.True(
                    relative < 1e-7,
                    $"{shape}: d{name}[{e}] analytic {analytic[e]:R}, numeric {numeric:R}, relative error {relative:G3} ≥ 1e-7");
                checkedCount++;
            }
        }

        Assert.True(checkedCount >= Math.Min(w.Length + x.Length, 600));
    }

    /// <summary>A fixed seed per shape and purpose, so every run sees the same data.</summary>
    private static int Seed(int m, int k, int n, int purpose) => (m * 1_000_003) ^ (k * 10_007) ^ (n * 101) ^ purpose;

    private static void FillWithGarbage<T>(params T[][] outputs)
        where T : struct
    {
        // Backward overwrites (never accumulates), so stale values in the outputs must not matter.
        foreach (var output in outputs)
        {
            for (int e = 0; e < output.Length; e++)
            {
                output[e] = (T)Convert.ChangeType(1e3 + e, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
            }
        }
    }
}
