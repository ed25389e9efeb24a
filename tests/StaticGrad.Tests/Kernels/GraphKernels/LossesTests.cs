using System;
using StaticGrad.Kernels;
using Xunit;
using static StaticGrad.Tests.Kernels.GraphKernels.GraphKernelCheck;

namespace StaticGrad.Tests.Kernels.GraphKernels;

/// <summary>
/// <see cref="Losses"/> against plain formulas (softmax cross-entropy with a naive log-sum-exp on moderate scores, the
/// mean squared error), their gradients against central differences, the loss alone (empty gradient), large scores that
/// would overflow a naive softmax, labels out of range, float against double, and no allocation.
/// </summary>
public class LossesTests
{
    [Fact]
    public void SoftmaxCrossEntropy_MatchesPlainFormula_AndItsGradient()
    {
        var random = new Random(31);
        foreach ((int batch, int classes) in new[] { (1, 2), (3, 7), (4, 13), (2, 33) })
        {
            double[] scores = Random(random, batch * classes, 2.0);
            int[] labels = new int[batch];
            for (int b = 0; b < batch; b++)
            {
                labels[b] = random.Next(classes);
            }

            double expected = 0;
            for (int b = 0; b < batch; b++)
            {
                double sum = 0;
                for (int j = 0; j < classes; j++)
                {
                    sum += Math.Exp(scores[(b * classes) + j]);
                }

                expected -= Math.Log(Math.Exp(scores[(b * classes) + labels[b]]) / sum) / batch;
            }

            double[] gradient = new double[batch * classes];
            double loss = Losses.SoftmaxCrossEntropy<double>(scores, labels, batch, classes, gradient);
            Assert.Equal(expected, loss, 1e-14);
            Assert.Equal(loss, Losses.SoftmaxCrossEntropy<double>(scores, labels, batch, classes, Span<double>.Empty));
            GradientMatches($"cross-entropy [{batch}, {classes}]", NumericGradient(scores, () => Losses.SoftmaxCrossEntropy<double>(scores, labels, batch, classes, default)), gradient);

            float[] sf = ToFloat(scores), gf = new float[gradient.Length];
            double lossF = Losses.SoftmaxCrossEntropy<float>(sf, labels, batch, classes, gf);
            Assert.Equal(Losses.SoftmaxCrossEntropy<double>(ToDouble(sf), labels, batch, classes, gradient), lossF, 1e-12);
            Close("float gradient", gradient, gf, 1e-6, 1e-2);
        }
    }

    [Fact]
    public void SoftmaxCrossEntropy_LargeScores_DoNotOverflow()
    {
        double[] scores = [1000, 999, -1000, 2000, 2000, 1990];
        double[] gradient = new double[6];
        double loss = Losses.SoftmaxCrossEntropy<double>(scores, [1, 2], 2, 3, gradient);

        // Row 0 (label 1): −log(e^−1/(1 + e^−1 + e^−2000)); row 1 (label 2): −log(e^−10/(2 + e^−10)).
        double expected = ((Math.Log(1 + Math.Exp(-1)) + 1) + (Math.Log(2 + Math.Exp(-10)) + 10)) / 2;
        Assert.Equal(expected, loss, 1e-13);
        Assert.All(gradient, g => Assert.True(double.IsFinite(g)));
        Assert.Equal((1 / (1 + Math.Exp(-1)) - 0) / 2, gradient[0], 1e-15);

        float[] sf = [1000f, 999f, -1000f];
        Assert.Equal(Math.Log(1 + Math.Exp(-1)) + 1, Losses.SoftmaxCrossEntropy<float>(sf, [1], 1, 3, default), 1e-12);
    }

    [Fact]
    public void SoftmaxCrossEntropy_LabelOutOfRange_ThrowsNamingIndexAndValue_BeforeWriting()
    {
        double[] gradient = [7, 7, 7, 7, 7, 7];
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Losses.SoftmaxCrossEntropy<double>(new double[6], [0, 3], 2, 3, gradient));
        Assert.Equal("labels", e.ParamName);
        Assert.Contains("labels[1]", e.Message);
        Assert.Contains("3", e.Message);
        Assert.Equal(3, e.ActualValue);
        Assert.All(gradient, g => Assert.Equal(7, g));

        e = Assert.Throws<ArgumentOutOfRangeException>(() => Losses.SoftmaxCrossEntropy<float>(new float[6], [-1, 0], 2, 3, default));
        Assert.Contains("labels[0] is -1", e.Message);
    }

    [Fact]
    public void MeanSquaredError_MatchesPlainFormula_AndItsGradient()
    {
        var random = new Random(32);
        foreach ((int batch, int outputs) in new[] { (1, 1), (3, 7), (2, 13), (5, 33) })
        {
            double[] y = Random(random, batch * outputs), t = Random(random, batch * outputs);
            double expected = 0;
            for (int i = 0; i < y.Length; i++)
            {
                expected += (y[i] - t[i]) * (y[i] - t[i]) / y.Length;
            }

            double[] gradient = new double[y.Length];
            Assert.Equal(expected, Losses.MeanSquaredError<double>(y, t, batch, outputs, gradient), 1e-14);
            Assert.Equal(expected, Losses.MeanSquaredError<double>(y, t, batch, outputs, default), 1e-14);
            GradientMatches($"mse [{batch}, {outputs}]", NumericGradient(y, () => Losses.MeanSquaredError<double>(y, t, batch, outputs, default)), gradient);
            for (int i = 0; i < y.Length; i++)
            {
                Assert.Equal(2 * (y[i] - t[i]) / y.Length, gradient[i], 1e-16);
            }

            float[] yf = ToFloat(y), tf = ToFloat(t), gf = new float[y.Length];
            Assert.Equal(expected, Losses.MeanSquaredError<float>(yf, tf, batch, outputs, gf), 1e-6);
            Close("float gradient", gradient, gf, 1e-5, 1e-2);
        }
    }

    [Fact]
    public void WarmCalls_AllocateNothing()
    {
        var random = new Random(33);
        double[] scores = Random(random, 4 * 13), gradient = new double[4 * 13], targets = Random(random, 4 * 13);
        float[] sf = ToFloat(scores), gf = new float[4 * 13];
        int[] labels = [0, 12, 5, 7];
        long bytes = AllocatedBytes(() =>
        {
            Losses.SoftmaxCrossEntropy<double>(scores, labels, 4, 13, gradient);
            Losses.SoftmaxCrossEntropy<float>(sf, labels, 4, 13, gf);
            Losses.SoftmaxCrossEntropy<double>(scores, labels, 4, 13, default);
            Losses.MeanSquaredError<double>(scores, targets, 4, 13, gradient);
            Losses.MeanSquaredError<float>(sf, gf, 4, 13, gf);
        });
        Assert.Equal(0, bytes);
    }
}
