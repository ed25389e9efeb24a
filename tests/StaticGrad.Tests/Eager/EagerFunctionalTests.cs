using System;
using Xunit;

namespace StaticGrad.Tests.Eager;

/// <summary>The functions of <see cref="Functional"/> against values computed elsewhere (Python's math.erf) or by hand.</summary>
public class EagerFunctionalTests
{
    private static Tensor Row(params float[] values) => Tensor.FromSpan(values, 1, values.Length);

    [Theory]
    [InlineData(0.1, 0.1124629160182849)]
    [InlineData(0.5, 0.5204998778130465)]
    [InlineData(1.0, 0.8427007929497149)]
    [InlineData(1.5, 0.9661051464753108)]
    [InlineData(1.99, 0.995111413199617)]
    [InlineData(2.0, 0.9953222650189527)]
    [InlineData(2.9, 0.9999589021219005)]
    [InlineData(3.0, 0.9999779095030014)]
    [InlineData(3.5, 0.9999992569016276)]
    [InlineData(5.0, 0.9999999999984626)]
    [InlineData(-1.7, -0.9837904585907745)]
    [InlineData(0.0, 0.0)]
    public void Erf_MatchesKnownValues(double x, double expected) =>
        Assert.Equal(expected, Functional.Erf(x), 2e-15);

    [Fact]
    public void Erfc_ContinuedFraction_RelativelyAccurate()
    {
        Assert.Equal(2.2090496998585438e-05, Functional.Erfc(3), 1e-16);
        Assert.Equal(1.5374597944280351e-12, Functional.Erfc(5), 1e-22);
        // The series (below 2) and the continued fraction (from 2) agree where they meet, and erf is odd.
        Assert.Equal(1 - Functional.Erfc(1.9999999), Functional.Erf(1.9999999), 1e-14);
        Assert.Equal(0.9953222650189527, Functional.Erf(2.0), 1e-15);
        Assert.Equal(-Functional.Erf(2.5), Functional.Erf(-2.5));
        Assert.True(double.IsNaN(Functional.Erf(double.NaN)));
        Assert.Equal(1.0, Functional.Erf(double.PositiveInfinity));
    }

    [Theory]
    [InlineData(1.0, 0.8413447460685429)]
    [InlineData(-1.0, -0.15865525393145707)]
    [InlineData(2.0, 1.9544997361036416)]
    [InlineData(-3.0, -0.00404969409489031)]
    [InlineData(0.5, 0.34573123063700656)]
    [InlineData(-6.0, -5.919525869479969e-09)]
    [InlineData(0.0, 0.0)]
    public void Gelu_Exact(double x, double expected)
    {
        float y = Functional.Gelu(Row((float)x)).AsSpan()[0];
        Assert.Equal(expected, y, Math.Max(1e-7, Math.Abs(expected) * 1e-6));
    }

    [Fact]
    public void Gelu_Tanh_AndBadApproximation()
    {
        Tensor y = Functional.Gelu(Row(1f, -2f), approximate: "tanh");
        Assert.Equal(0.8411919906082768, y.AsSpan()[0], 1e-6);
        Assert.Equal(-0.04540230591222494, y.AsSpan()[1], 1e-7);
        var e = Assert.Throws<ArgumentException>(() => Functional.Gelu(Row(1f), "erf"));
        Assert.Equal("approximate", e.ParamName);
    }

    [Fact]
    public void Relu_Sigmoid_Silu_Tanh()
    {
        Assert.Equal(new float[] { 0, 0, 2.5f }, Functional.Relu(Row(-1f, 0f, 2.5f)).ToArray());

        float[] s = Functional.Sigmoid(Row(0f, 1000f, -1000f, 2f, -2f)).ToArray();
        Assert.Equal(0.5f, s[0]);
        Assert.Equal(1f, s[1]);
        Assert.Equal(0f, s[2]);
        Assert.Equal(0.8807970779778823, s[3], 1e-7);
        Assert.Equal(0.11920292202211755, s[4], 1e-7);
        Assert.All(Functional.Sigmoid(Row(-100f, 100f, -88.8f, 89f)).ToArray(), v => Assert.False(float.IsNaN(v)));

        float[] silu = Functional.Silu(Row(2f, -2f)).ToArray();
        Assert.Equal(2 * 0.8807970779778823, silu[0], 1e-6);
        Assert.Equal(-2 * 0.11920292202211755, silu[1], 1e-6);

        Assert.Equal(Math.Tanh(0.7), Functional.Tanh(Row(0.7f)).AsSpan()[0], 1e-6);
    }

    [Fact]
    public void MaxPool2d_AvgPool2d_TwoByTwo()
    {
        // One 1×4×4 image 0..15.
        var x = new Tensor(1, 1, 4, 4);
        for (int i = 0; i < 16; i++) x.AsSpan()[i] = i;
        Tensor max = Functional.MaxPool2d(x, 2);
        Assert.Equal(new[] { 1, 2, 2 }, max.Shape.ToArray());
        Assert.Equal(new float[] { 5, 7, 13, 15 }, max.ToArray());
        Tensor avg = Functional.AvgPool2d(x, 2);
        Assert.Equal(new float[] { 2.5f, 4.5f, 10.5f, 12.5f }, avg.ToArray());

        // Overlapping windows: kernel 3, stride 1 → 2×2.
        Assert.Equal(new float[] { 10, 11, 14, 15 }, Functional.MaxPool2d(x, 3, stride: 1).ToArray());
        // Odd sizes drop the remainder, as PyTorch does: 4×4 with kernel 3 (stride 3) → 1×1.
        Assert.Equal(new float[] { 10 }, Functional.MaxPool2d(x, 3).ToArray());
    }

    [Fact]
    public void MaxPool2d_NegativeValuesAndChannels()
    {
        var x = Tensor.FromSpan(new float[] { -4, -3, -2, -5, /* channel 1 */ 1, 1, 1, 1 }, 1, 2, 2, 2);
        Assert.Equal(new float[] { -2, 1 }, Functional.MaxPool2d(x, 2).ToArray());
    }

    [Fact]
    public void Pooling_Errors()
    {
        var e = Assert.Throws<ArgumentException>(() => Functional.MaxPool2d(new Tensor(1, 8), 2));
        Assert.Equal("x", e.ParamName);
        Assert.Contains("C×H×W", e.Message);
        Assert.Throws<ArgumentException>(() => Functional.AvgPool2d(new Tensor(1, 1, 2, 2), 3));
        Assert.Throws<NotSupportedException>(() => Functional.AdaptiveAvgPool2d(new Tensor(1, 1, 4, 4), 2));
    }

    [Fact]
    public void AdaptiveAvgPool2d_One_IsTheChannelMean()
    {
        var x = Tensor.FromSpan(new float[] { 1, 2, 3, 4, 10, 10, 10, 14, /* example 1 */ 0, 0, 0, 0, -1, -2, -3, -4 }, 2, 2, 2, 2);
        Tensor y = Functional.AdaptiveAvgPool2d(x, 1);
        Assert.Equal(new[] { 2, 1, 1 }, y.Shape.ToArray());
        Assert.Equal(new float[] { 2.5f, 11f, 0f, -2.5f }, y.ToArray());
    }

    [Fact]
    public void Concat_FirstAndLastDimension()
    {
        var a = Tensor.FromSpan(new float[] { 1, 2, 3, 4, /* ex 1 */ 5, 6, 7, 8 }, 2, 2, 2);
        var b = Tensor.FromSpan(new float[] { 9, 10, /* ex 1 */ 11, 12 }, 2, 1, 2);
        Tensor rows = Functional.Concat(0, a, b);
        Assert.Equal(new[] { 3, 2 }, rows.Shape.ToArray());
        Assert.Equal(new float[] { 1, 2, 3, 4, 9, 10, 5, 6, 7, 8, 11, 12 }, rows.ToArray());

        var c = Tensor.FromSpan(new float[] { 9, 10, /* ex 1 */ 11, 12 }, 2, 2, 1);
        Tensor columns = Functional.Concat(-1, a, c);
        Assert.Equal(new[] { 2, 3 }, columns.Shape.ToArray());
        Assert.Equal(new float[] { 1, 2, 9, 3, 4, 10, 5, 6, 11, 7, 8, 12 }, columns.ToArray());

        var e = Assert.Throws<ArgumentException>(() => Functional.Concat(1, a, b));
        Assert.Contains("2×2", e.Message);
        Assert.Contains("1×2", e.Message);
    }
}
