using System;
using System.Linq;
using Xunit;

namespace StaticGrad.Tests.Eager;

/// <summary>The built-in modules on small cases computed by hand, their PyTorch initialisation and their shape errors.</summary>
public class EagerLayerTests
{
    [Fact]
    public void Linear_KnownWeights_AnyRank()
    {
        var linear = new Linear(3, 2);
        new float[] { 1, 2, 3, -1, 0, 1 }.CopyTo(linear.Weight.Data);
        new float[] { 0.5f, -0.5f }.CopyTo(linear.Bias!.Data);

        var x = Tensor.FromSpan(new float[] { 1, 1, 1, 2, 0, -1 }, 2, 3);
        Tensor y = linear.Forward(x);
        Assert.Equal(new[] { 2 }, y.Shape.ToArray());
        Assert.Equal(new float[] { 6.5f, -0.5f, -0.5f, -3.5f }, y.ToArray());

        // Rank 2 per example: the layer applies to each row of the last dimension.
        Tensor y2 = linear.Forward(x.Reshape(1, 3));
        Assert.Equal(new[] { 1, 2 }, y2.Shape.ToArray());
        Assert.Equal(y.ToArray(), y2.ToArray());
    }

    [Fact]
    public void Linear_WithoutBias_AndInitialisationBounds()
    {
        Module.ManualSeed(7);
        var linear = new Linear(16, 4, bias: false);
        Assert.Null(linear.Bias);
        Assert.Equal(new[] { 4, 16 }, linear.Weight.Shape.ToArray());
        float bound = 1 / MathF.Sqrt(16);
        float[] w = linear.Weight.Data.ToArray();
        Assert.All(w, v => Assert.InRange(v, -bound, bound));
        Assert.True(w.Distinct().Count() > 60, "weights should be random");
        Assert.Single(linear.NamedParameters());
    }

    [Fact]
    public void Linear_WrongShape_NamesExpectedAndReceived()
    {
        var linear = new Linear(784, 10);
        var e = Assert.Throws<ArgumentException>(() => linear.Forward(new Tensor(2, 32, 14, 14)));
        Assert.Equal("x", e.ParamName);
        Assert.Contains("784", e.Message);
        Assert.Contains("32×14×14", e.Message);
    }

    [Fact]
    public void Conv2d_TwoByTwoKernel_HandComputed()
    {
        var conv = new Conv2d(1, 1, 2);
        new float[] { 1, 2, 3, 4 }.CopyTo(conv.Weight.Data);
        conv.Bias!.Data[0] = 0.5f;
        var x = Tensor.FromSpan(new float[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, 1, 1, 3, 3);
        Tensor y = conv.Forward(x);
        Assert.Equal(new[] { 1, 2, 2 }, y.Shape.ToArray());
        Assert.Equal(new float[] { 37.5f, 47.5f, 67.5f, 77.5f }, y.ToArray());
    }

    [Fact]
    public void Conv2d_PaddingAndStride_HandComputed()
    {
        var x = Tensor.FromSpan(new float[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, 1, 1, 3, 3);

        var same = new Conv2d(1, 1, 3, padding: 1, bias: false);
        same.Weight.Data.Fill(1f);
        Assert.Equal(new float[] { 12, 21, 16, 27, 45, 33, 24, 39, 28 }, same.Forward(x).ToArray());

        var strided = new Conv2d(1, 1, 3, stride: 2, padding: 1, bias: false);
        strided.Weight.Data.Fill(1f);
        Tensor y = strided.Forward(x);
        Assert.Equal(new[] { 1, 2, 2 }, y.Shape.ToArray());
        Assert.Equal(new float[] { 12, 16, 24, 28 }, y.ToArray());
    }

    [Fact]
    public void Conv2d_ChannelsAndBatch()
    {
        // 1×1 kernel, 2 channels in, 2 out: out0 = 2·x0 − x1, out1 = x1 + 1 (bias).
        var conv = new Conv2d(2, 2, 1);
        new float[] { 2, -1, 0, 1 }.CopyTo(conv.Weight.Data);
        new float[] { 0, 1 }.CopyTo(conv.Bias!.Data);
        var x = Tensor.FromSpan(new float[] { 1, 2, 3, 4, /* ex 1 */ 5, 6, 7, 8 }, 2, 2, 1, 2);
        Tensor y = conv.Forward(x);
        Assert.Equal(new float[] { 2 - 3, 4 - 4, 4, 5, 10 - 7, 12 - 8, 8, 9 }, y.ToArray());
    }

    [Fact]
    public void Conv2d_ParametersAndErrors()
    {
        var conv = new Conv2d(3, 8, 5);
        Assert.Equal(new[] { 8, 3, 5, 5 }, conv.Weight.Shape.ToArray());
        Assert.Equal(new[] { 8 }, conv.Bias!.Shape.ToArray());
        float bound = 1 / MathF.Sqrt(3 * 25);
        Assert.All(conv.Weight.Data.ToArray(), v => Assert.InRange(v, -bound, bound));

        var e = Assert.Throws<ArgumentException>(() => conv.Forward(new Tensor(1, 1, 28, 28)));
        Assert.Equal("x", e.ParamName);
        Assert.Contains("3×H×W", e.Message);
        Assert.Contains("1×28×28", e.Message);
        Assert.Throws<ArgumentException>(() => conv.Forward(new Tensor(1, 3, 4, 4)));
    }

    [Fact]
    public void BatchNorm1d_TwoExamples_ByHand_RunningStatistics_Eval()
    {
        var bn = new BatchNorm1d(1);
        var x = Tensor.FromSpan(new float[] { 1, 3 }, 2, 1);

        // Mean 2, biased variance 1.
        Tensor y = bn.Forward(x);
        Assert.Equal(-1 / Math.Sqrt(1 + 1e-5), y.AsSpan()[0], 1e-6);
        Assert.Equal(1 / Math.Sqrt(1 + 1e-5), y.AsSpan()[1], 1e-6);
        // Running: 0.9·0 + 0.1·2 and 0.9·1 + 0.1·2 (the unbiased variance, 2/1).
        Assert.Equal(0.2f, bn.RunningMean.Data[0], 6);
        Assert.Equal(1.1f, bn.RunningVar.Data[0], 6);
        Assert.Equal(1, bn.NumBatchesTracked.Value);

        bn.Forward(x);
        Assert.Equal(0.38f, bn.RunningMean.Data[0], 6);
        Assert.Equal(1.19f, bn.RunningVar.Data[0], 6);
        Assert.Equal(2, bn.NumBatchesTracked.Value);

        bn.Eval();
        Tensor z = bn.Forward(x);
        Assert.Equal((1 - 0.38) / Math.Sqrt(1.19 + 1e-5), z.AsSpan()[0], 1e-6);
        Assert.Equal((3 - 0.38) / Math.Sqrt(1.19 + 1e-5), z.AsSpan()[1], 1e-6);
        Assert.Equal(0.38f, bn.RunningMean.Data[0], 6);
        Assert.Equal(2, bn.NumBatchesTracked.Value);
    }

    [Fact]
    public void BatchNorm2d_TwoChannels_ByHand()
    {
        var bn = new BatchNorm2d(2, momentum: 0.5);
        new float[] { 2, 1 }.CopyTo(bn.Weight.Data);
        new float[] { 0, 1 }.CopyTo(bn.Bias.Data);
        // Each example is 2×1×2: channel 0 then channel 1.
        var x = Tensor.FromSpan(new float[] { 1, 2, 0, 0, /* ex 1 */ 3, 6, 0, 4 }, 2, 2, 1, 2);
        Tensor y = bn.Forward(x);

        // Channel 0: 1, 2, 3, 6 → mean 3, squares 4+1+0+9 = 14, biased 3.5, unbiased 14/3.
        // Channel 1: 0, 0, 0, 4 → mean 1, squares 12, biased 3, unbiased 4.
        double s0 = 2 / Math.Sqrt(3.5 + 1e-5), s1 = 1 / Math.Sqrt(3 + 1e-5);
        double[] expected = { (1 - 3) * s0, (2 - 3) * s0, (0 - 1) * s1 + 1, (0 - 1) * s1 + 1, 0, (6 - 3) * s0, (0 - 1) * s1 + 1, (4 - 1) * s1 + 1 };
        float[] actual = y.ToArray();
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-5);

        Assert.Equal(new float[] { 1.5f, 0.5f }, bn.RunningMean.Data.ToArray());
        Assert.Equal(0.5 + 0.5 * 14 / 3.0, bn.RunningVar.Data[0], 1e-6);
        Assert.Equal(2.5f, bn.RunningVar.Data[1], 6);
    }

    [Fact]
    public void BatchNorm_Errors()
    {
        var bn = new BatchNorm2d(4);
        var e = Assert.Throws<ArgumentException>(() => bn.Forward(new Tensor(2, 3, 5, 5)));
        Assert.Equal("x", e.ParamName);
        Assert.Contains("4×H×W", e.Message);
        Assert.Contains("3×5×5", e.Message);
        // One value per channel cannot be normalised in training mode (PyTorch refuses too).
        Assert.Throws<ArgumentException>(() => new BatchNorm1d(3).Forward(new Tensor(1, 3)));
        Assert.Throws<ArgumentException>(() => new BatchNorm1d(3).Forward(new Tensor(2, 3, 2, 2)));
        Assert.Equal(new[] { 3, 4 }, new BatchNorm1d(3).Forward(new Tensor(1, 3, 4)).Shape.ToArray());
    }

    [Fact]
    public void LayerNorm_LastDimension_ByHand()
    {
        var ln = new LayerNorm(4);
        new float[] { 1, 1, 2, 2 }.CopyTo(ln.Weight.Data);
        new float[] { 0, 0, 0, 1 }.CopyTo(ln.Bias.Data);
        var x = Tensor.FromSpan(new float[] { 1, 2, 3, 4, 5, 5, 5, 5 }, 1, 2, 4);
        float[] y = ln.Forward(x).ToArray();
        double inv = 1 / Math.Sqrt(1.25 + 1e-5);
        double[] expected = { -1.5 * inv, -0.5 * inv, 2 * 0.5 * inv, 2 * 1.5 * inv + 1, 0, 0, 0, 1 };
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], y[i], 1e-5);
        var e = Assert.Throws<ArgumentException>(() => ln.Forward(new Tensor(1, 4, 3)));
        Assert.Equal("x", e.ParamName);
        Assert.Contains("4×3", e.Message);
    }

    [Fact]
    public void Dropout_Eval_IsTheIdentity_Train_KeepsTheMean()
    {
        Module.ManualSeed(123);
        var dropout = new Dropout(0.3);
        var x = new Tensor(10, 10_000);
        x.AsSpan().Fill(1f);

        Tensor trained = dropout.Forward(x);
        float[] values = trained.ToArray();
        int zeros = values.Count(v => v == 0f);
        Assert.InRange(zeros / (double)values.Length, 0.29, 0.31);
        Assert.All(values, v => Assert.True(v == 0f || Math.Abs(v - 1 / 0.7) < 1e-6));
        Assert.InRange(values.Average(), 0.98, 1.02);

        dropout.Eval();
        Tensor evaluated = dropout.Forward(x);
        Assert.Equal(x.ToArray(), evaluated.ToArray());

        // Seeded construction drops the same values.
        Module.ManualSeed(123);
        var again = new Dropout(0.3);
        Assert.Equal(values, again.Forward(x).ToArray());
    }
}
