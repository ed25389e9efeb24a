using System;
using System.Linq;
using StaticGrad.Kernels;
using Xunit;
using static StaticGrad.Tests.Kernels.GraphKernels.GraphKernelCheck;

namespace StaticGrad.Tests.Kernels.GraphKernels;

/// <summary>
/// <see cref="Normalization"/>: batch norm (training, inference, backward) and layer norm (forward, backward) against
/// plain per-channel and per-row loops written here, the running statistics against hand-computed values (PyTorch's
/// unbiased running variance), every gradient (input, weight, bias) against central differences, accumulation into the
/// parameter gradients, float against double, and no allocation. Planes and feature counts leave SIMD tails.
/// </summary>
public class NormalizationTests
{
    private const double Epsilon = 1e-5;

    /// <summary>(batch, channels, plane): BatchNorm1d on [B, C] (plane 1), and BatchNorm2d planes of 7, 13 and 33.</summary>
    private static readonly (int Batch, int Channels, int Plane)[] BatchShapes = [(5, 3, 1), (2, 3, 7), (3, 2, 13), (2, 2, 33)];

    private static readonly (int Rows, int Features)[] LayerShapes = [(1, 7), (3, 13), (2, 33), (4, 5)];

    [Fact]
    public void BatchNormTraining_RunningStatistics_MatchHandComputedValues()
    {
        // x[batch 2, channels 2, plane 2]: channel 0 holds 1, 2 | 3, 4 and channel 1 holds 10, 10 | 10, 14.
        double[] x = [1, 2, 10, 10, 3, 4, 10, 14];
        double[] weight = [1, 1], bias = [0, 0], runningMean = [0, 1], runningVar = [1, 2];
        double[] y = new double[8], savedMean = new double[2], savedInvStd = new double[2];
        Normalization.BatchNormTraining<double>(x, 2, 2, 2, weight, bias, Epsilon, 0.1, runningMean, runningVar, y, savedMean, savedInvStd);

        // Channel 0: mean 2.5, biased variance 1.25, unbiased 5/3. Channel 1: mean 11, biased variance 3, unbiased 4.
        Assert.Equal(new double[] { 2.5, 11 }, savedMean);
        Close("invStd", [1 / Math.Sqrt(1.25 + Epsilon), 1 / Math.Sqrt(3 + Epsilon)], savedInvStd, 1e-15);
        Close("runningMean", [0.25, (0.9 * 1) + (0.1 * 11)], runningMean, 1e-15);
        Close("runningVar", [(0.9 * 1) + (0.1 * 5.0 / 3.0), (0.9 * 2) + (0.1 * 4)], runningVar, 1e-15);

        // A second step moves them again from where they are.
        Normalization.BatchNormTraining<double>(x, 2, 2, 2, weight, bias, Epsilon, 0.1, runningMean, runningVar, y, savedMean, savedInvStd);
        Close("runningMean after two", [(0.9 * 0.25) + 0.25, (0.9 * 2.0) + 1.1], runningMean, 1e-15);
        Close("runningVar after two", [(0.9 * ((0.9 * 1) + (0.1 * 5.0 / 3.0))) + (0.1 * 5.0 / 3.0), (0.9 * 2.2) + 0.4], runningVar, 1e-15);

        // BatchNorm1d: [batch 4, channels 1] = 1, 2, 3, 6 → mean 3, biased variance 3.5, unbiased 14/3.
        double[] x1 = [1, 2, 3, 6], m1 = [0], v1 = [1], y1 = new double[4], sm = new double[1], si = new double[1];
        Normalization.BatchNormTraining<double>(x1, 4, 1, 1, [2.0], [0.5], Epsilon, 0.25, m1, v1, y1, sm, si);
        Close("BatchNorm1d running", [0.75, (0.75 * 1) + (0.25 * 14.0 / 3.0)], [m1[0], v1[0]], 1e-15);
        double s = 1 / Math.Sqrt(3.5 + Epsilon);
        Close("BatchNorm1d y", [(-2 * s * 2) + 0.5, (-1 * s * 2) + 0.5, 0.5, (3 * s * 2) + 0.5], y1, 1e-15);
    }

    [Fact]
    public void BatchNormTraining_OneValuePerChannel_Throws()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Normalization.BatchNormTraining<double>(new double[3], 1, 3, 1, new double[3], new double[3], Epsilon, 0.1, new double[3], new double[3], new double[3], new double[3], new double[3]));
        Assert.Contains("more than one value per channel", e.Message);
    }

    [Fact]
    public void BatchNorm_MatchesPlainLoops()
    {
        var random = new Random(11);
        foreach ((int batch, int channels, int plane) in BatchShapes)
        {
            int count = batch * channels * plane;
            double[] x = Random(random, count, 2.0, 0.5), weight = Random(random, channels), bias = Random(random, channels);
            double[] runningMean = Random(random, channels), runningVar = Random(random, channels, 0.2, 1.0);
            double[] expectedMean = (double[])runningMean.Clone(), expectedVar = (double[])runningVar.Clone();
            double[] y = new double[count], savedMean = new double[channels], savedInvStd = new double[channels];
            Normalization.BatchNormTraining<double>(x, batch, channels, plane, weight, bias, 0.01, 0.3, runningMean, runningVar, y, savedMean, savedInvStd);

            double[] expected = new double[count];
            int n = batch * plane;
            for (int c = 0; c < channels; c++)
            {
                double sum = 0;
                for (int b = 0; b < batch; b++)
                {
                    for (int p = 0; p < plane; p++)
                    {
                        sum += x[(((b * channels) + c) * plane) + p];
                    }
                }

                double mean = sum / n, squares = 0;
                for (int b = 0; b < batch; b++)
                {
                    for (int p = 0; p < plane; p++)
                    {
                        squares += Math.Pow(x[(((b * channels) + c) * plane) + p] - mean, 2);
                    }
                }

                double variance = squares / n;
                for (int b = 0; b < batch; b++)
                {
                    for (int p = 0; p < plane; p++)
                    {
                        int i = (((b * channels) + c) * plane) + p;
                        expected[i] = ((x[i] - mean) / Math.Sqrt(variance + 0.01) * weight[c]) + bias[c];
                    }
                }

                Assert.Equal(mean, savedMean[c], 1e-14);
                Assert.Equal(1 / Math.Sqrt(variance + 0.01), savedInvStd[c], 1e-13);
                expectedMean[c] = (0.7 * expectedMean[c]) + (0.3 * mean);
                expectedVar[c] = (0.7 * expectedVar[c]) + (0.3 * variance * n / (n - 1));
            }

            string shape = $"[{batch}, {channels}, {plane}]";
            Close("training y " + shape, expected, y, 1e-13, 1e-3);
            Close("running mean " + shape, expectedMean, runningMean, 1e-14, 1e-3);
            Close("running var " + shape, expectedVar, runningVar, 1e-14);

            Normalization.BatchNormInference<double>(x, batch, channels, plane, weight, bias, runningMean, runningVar, 0.01, y);
            for (int i = 0; i < count; i++)
            {
                int c = i / plane % channels;
                expected[i] = ((x[i] - runningMean[c]) / Math.Sqrt(runningVar[c] + 0.01) * weight[c]) + bias[c];
            }

            Close("inference y " + shape, expected, y, 1e-13, 1e-3);
        }
    }

    [Fact]
    public void BatchNorm_LargeCommonOffset_DoesNotCancelTheVariance()
    {
        var random = new Random(12);
        double[] x = Random(random, 2 * 3 * 13), shifted = Array.ConvertAll(x, v => v + 1e6);
        double[] y = new double[x.Length], yShifted = new double[x.Length], mean = new double[3], invStd = new double[3];
        Normalization.BatchNormTraining<double>(x, 2, 3, 13, [1.0, 1, 1], [0.0, 0, 0], Epsilon, 0.1, new double[3], new double[3], y, mean, invStd);
        Normalization.BatchNormTraining<double>(shifted, 2, 3, 13, [1.0, 1, 1], [0.0, 0, 0], Epsilon, 0.1, new double[3], new double[3], yShifted, mean, invStd);
        Close("shifted", y, yShifted, 1e-8, 1e-2);
    }

    [Fact]
    public void BatchNormBackward_MatchesCentralDifferences_AndAccumulatesParameterGradients()
    {
        var random = new Random(13);
        foreach ((int batch, int channels, int plane) in BatchShapes)
        {
            int count = batch * channels * plane;
            double[] x = Random(random, count, 1.5, 0.3), weight = Random(random, channels, 1, 0.5), bias = Random(random, channels);
            double[] dy = Random(random, count);
            double[] savedMean = new double[channels], savedInvStd = new double[channels], y = new double[count];
            Normalization.BatchNormTraining<double>(x, batch, channels, plane, weight, bias, Epsilon, 0.1, new double[channels], new double[channels], y, savedMean, savedInvStd);

            double[] priorW = Random(random, channels), priorB = Random(random, channels);
            double[] dW = (double[])priorW.Clone(), dB = (double[])priorB.Clone(), dx = new double[count];
            Normalization.BatchNormBackward<double>(x, dy, batch, channels, plane, weight, savedMean, savedInvStd, dW, dB, dx);

            string shape = $"[{batch}, {channels}, {plane}]";
            GradientMatches("dx " + shape, NumericGradient(x, Loss), dx);
            GradientMatches("dWeight " + shape, Add(NumericGradient(weight, Loss), priorW), dW);
            GradientMatches("dBias " + shape, Add(NumericGradient(bias, Loss), priorB), dB);

            double Loss()
            {
                double[] output = new double[count];
                Normalization.BatchNormTraining<double>(x, batch, channels, plane, weight, bias, Epsilon, 0.1, new double[channels], new double[channels], output, new double[channels], new double[channels]);
                return Dot(dy, output);
            }
        }
    }

    [Fact]
    public void LayerNorm_MatchesPlainLoops()
    {
        var random = new Random(14);
        foreach ((int rows, int features) in LayerShapes)
        {
            double[] x = Random(random, rows * features, 2.0, -0.7), weight = Random(random, features), bias = Random(random, features);
            double[] y = new double[rows * features], savedMean = new double[rows], savedInvStd = new double[rows];
            Normalization.LayerNorm<double>(x, rows, features, weight, bias, Epsilon, y, savedMean, savedInvStd);

            double[] expected = new double[rows * features];
            for (int r = 0; r < rows; r++)
            {
                double mean = 0, variance = 0;
                for (int j = 0; j < features; j++)
                {
                    mean += x[(r * features) + j] / features;
                }

                for (int j = 0; j < features; j++)
                {
                    variance += Math.Pow(x[(r * features) + j] - mean, 2) / features;
                }

                for (int j = 0; j < features; j++)
                {
                    expected[(r * features) + j] = ((x[(r * features) + j] - mean) / Math.Sqrt(variance + Epsilon) * weight[j]) + bias[j];
                }

                Assert.Equal(mean, savedMean[r], 1e-14);
                Assert.Equal(1 / Math.Sqrt(variance + Epsilon), savedInvStd[r], 1e-12);
            }

            Close($"layer norm [{rows}, {features}]", expected, y, 1e-13, 1e-3);
        }
    }

    [Fact]
    public void LayerNormBackward_MatchesCentralDifferences_AndAccumulatesParameterGradients()
    {
        var random = new Random(15);
        foreach ((int rows, int features) in LayerShapes)
        {
            int count = rows * features;
            double[] x = Random(random, count, 1.5, 0.2), weight = Random(random, features, 1, 0.5), bias = Random(random, features);
            double[] dy = Random(random, count);
            double[] savedMean = new double[rows], savedInvStd = new double[rows], y = new double[count];
            Normalization.LayerNorm<double>(x, rows, features, weight, bias, Epsilon, y, savedMean, savedInvStd);

            double[] priorW = Random(random, features), priorB = Random(random, features);
            double[] dW = (double[])priorW.Clone(), dB = (double[])priorB.Clone(), dx = new double[count];
            Normalization.LayerNormBackward<double>(x, dy, rows, features, weight, savedMean, savedInvStd, dW, dB, dx);

            string shape = $"[{rows}, {features}]";
            GradientMatches("dx " + shape, NumericGradient(x, Loss), dx);
            GradientMatches("dWeight " + shape, Add(NumericGradient(weight, Loss), priorW), dW);
            GradientMatches("dBias " + shape, Add(NumericGradient(bias, Loss), priorB), dB);

            double Loss()
            {
                double[] output = new double[count];
                Normalization.LayerNorm<double>(x, rows, features, weight, bias, Epsilon, output, new double[rows], new double[rows]);
                return Dot(dy, output);
            }
        }
    }

    /// <summary>
    /// Batch norm in float on planes of 2100 values (the float sums go on in double after runs of 1024, twice per plane, then a
    /// tail), over a common offset of 3: statistics, output and every gradient agree with the double computation.
    /// </summary>
    [Fact]
    public void BatchNorm_OnLargePlanes_InFloat_AgreesWithDouble()
    {
        var random = new Random(29);
        (int batch, int channels, int plane) = (2, 2, 2100);
        int count = batch * channels * plane;
        float[] xf = ToFloat(Random(random, count, 1, 3)), dyf = ToFloat(Random(random, count)), wf = ToFloat(Random(random, channels, 1, 0.5)), bf = ToFloat(Random(random, channels));
        double[] x = ToDouble(xf), dy = ToDouble(dyf), w = ToDouble(wf), b = ToDouble(bf);
        double[] y = new double[count], mean = new double[channels], invStd = new double[channels], rm = new double[channels], rv = [1.0, 1.0], dx = new double[count], dW = new double[channels], dB = new double[channels];
        float[] yf = new float[count], meanF = new float[channels], invStdF = new float[channels], rmf = new float[channels], rvf = [1f, 1f], dxf = new float[count], dWf = new float[channels], dBf = new float[channels];

        Normalization.BatchNormTraining<double>(x, batch, channels, plane, w, b, Epsilon, 0.1, rm, rv, y, mean, invStd);
        Normalization.BatchNormTraining<float>(xf, batch, channels, plane, wf, bf, Epsilon, 0.1, rmf, rvf, yf, meanF, invStdF);
        Close("mean", mean, meanF, 1e-6, 1);
        Close("invStd", invStd, invStdF, 1e-6, 1);
        Close("running var", rv, rvf, 1e-6, 1);
        Close("y", y, yf, 1e-5, 1);
        Normalization.BatchNormBackward<double>(x, dy, batch, channels, plane, w, mean, invStd, dW, dB, dx, relu: true, bias: b);
        Normalization.BatchNormBackward<float>(xf, dyf, batch, channels, plane, wf, meanF, invStdF, dWf, dBf, dxf, relu: true, bias: bf);
        Close("dx", dx, dxf, 1e-5, 1e-2);
        Close("dW", dW, dWf, 1e-5, 1);
        Close("dB", dB, dBf, 1e-5, 1);
    }

    [Fact]
    public void Float_AgreesWithDouble()
    {
        var random = new Random(16);
        (int batch, int channels, int plane) = (3, 2, 13);
        int count = batch * channels * plane;
        float[] xf = ToFloat(Random(random, count, 1.5)), dyf = ToFloat(Random(random, count)), wf = ToFloat(Random(random, 13, 1, 0.5)), bf = ToFloat(Random(random, 13));
        double[] x = ToDouble(xf), dy = ToDouble(dyf), w = ToDouble(wf), b = ToDouble(bf);

        double[] y = new double[count], mean = new double[6], invStd = new double[6], rm = new double[2], rv = [1.0, 1.0], dx = new double[count], dW = new double[13], dB = new double[13];
        float[] yf = new float[count], meanF = new float[6], invStdF = new float[6], rmf = new float[2], rvf = [1f, 1f], dxf = new float[count], dWf = new float[13], dBf = new float[13];

        Normalization.BatchNormTraining<double>(x, batch, channels, plane, w, b, Epsilon, 0.1, rm, rv, y, mean, invStd);
        Normalization.BatchNormTraining<float>(xf, batch, channels, plane, wf, bf, Epsilon, 0.1, rmf, rvf, yf, meanF, invStdF);
        Close("batch norm y", y, yf, 1e-5, 1e-3);
        Close("running var", rv, rvf, 1e-6, 1e-6);
        Normalization.BatchNormBackward<double>(x, dy, batch, channels, plane, w, mean, invStd, dW, dB, dx);
        Normalization.BatchNormBackward<float>(xf, dyf, batch, channels, plane, wf, meanF, invStdF, dWf, dBf, dxf);
        Close("batch norm dx", dx, dxf, 1e-4, 1e-2);
        Close("batch norm dW", dW.AsSpan(0, 2), dWf.AsSpan(0, 2), 1e-5, 1e-3);
        Close("batch norm dB", dB.AsSpan(0, 2), dBf.AsSpan(0, 2), 1e-5, 1e-3);

        Normalization.LayerNorm<double>(x, 6, 13, w, b, Epsilon, y, mean, invStd);
        Normalization.LayerNorm<float>(xf, 6, 13, wf, bf, Epsilon, yf, meanF, invStdF);
        Close("layer norm y", y, yf, 1e-5, 1e-3);
        Array.Clear(dW);
        Array.Clear(dWf);
        Array.Clear(dB);
        Array.Clear(dBf);
        Normalization.LayerNormBackward<double>(x, dy, 6, 13, w, mean, invStd, dW, dB, dx);
        Normalization.LayerNormBackward<float>(xf, dyf, 6, 13, wf, meanF, invStdF, dWf, dBf, dxf);
        Close("layer norm dx", dx, dxf, 1e-4, 1e-2);
        Close("layer norm dW", dW, dWf, 1e-5, 1e-3);
        Close("layer norm dB", dB, dBf, 1e-5, 1e-3);
    }

    [Fact]
    public void InPlace_OutputOverInput_AndInputGradientOverOutputGradient_GiveTheSameResults()
    {
        var random = new Random(18);
        (int batch, int channels, int plane) = (3, 2, 13);
        int count = batch * channels * plane;
        double[] x = Random(random, count), dy = Random(random, count), w = Random(random, 13, 1, 0.5), b = Random(random, 13);
        double[] y = new double[count], mean = new double[6], invStd = new double[6], dx = new double[count];

        Normalization.BatchNormTraining<double>(x, batch, channels, plane, w, b, Epsilon, 0.1, new double[2], new double[2], y, mean, invStd);
        double[] inPlace = (double[])x.Clone();
        Normalization.BatchNormTraining<double>(inPlace, batch, channels, plane, w, b, Epsilon, 0.1, new double[2], new double[2], inPlace, new double[2], new double[2]);
        Assert.Equal(y, inPlace);
        Normalization.BatchNormBackward<double>(x, dy, batch, channels, plane, w, mean, invStd, new double[2], new double[2], dx);
        inPlace = (double[])dy.Clone();
        Normalization.BatchNormBackward<double>(x, inPlace, batch, channels, plane, w, mean, invStd, new double[2], new double[2], inPlace);
        Assert.Equal(dx, inPlace);

        Normalization.LayerNorm<double>(x, 6, 13, w, b, Epsilon, y, mean, invStd);
        inPlace = (double[])x.Clone();
        Normalization.LayerNorm<double>(inPlace, 6, 13, w, b, Epsilon, inPlace, new double[6], new double[6]);
        Assert.Equal(y, inPlace);
        Normalization.LayerNormBackward<double>(x, dy, 6, 13, w, mean, invStd, new double[13], new double[13], dx);
        inPlace = (double[])dy.Clone();
        Normalization.LayerNormBackward<double>(x, inPlace, 6, 13, w, mean, invStd, new double[13], new double[13], inPlace);
        Assert.Equal(dx, inPlace);
    }

    /// <summary>
    /// The ReLU folded into batch norm (<c>relu: true</c> both ways; the backward pass recomputes the mask from x) gives, to the bit, what batch norm then
    /// <see cref="Elementwise.Relu{T}"/> and <see cref="Elementwise.ReluBackward{T}"/> then batch norm's backward give, in
    /// float and double, in training and evaluation mode, on planes with and without SIMD tails.
    /// </summary>
    [Fact]
    public void FoldedRelu_GivesExactlyWhatTheSeparateReluGives()
    {
        var random = new Random(19);
        foreach ((int batch, int channels, int plane) in BatchShapes)
        {
            int count = batch * channels * plane;
            double[] x = Random(random, count), dz = Random(random, count), w = Random(random, channels, 1, 0.5), b = Random(random, channels, 0.5);
            FoldedReluCase(x, dz, w, b, batch, channels, plane);
            FoldedReluCase(ToFloat(x), ToFloat(dz), ToFloat(w), ToFloat(b), batch, channels, plane);
        }

        var e = Assert.Throws<ArgumentException>(() => Normalization.BatchNormBackward<double>(new double[6], new double[6], 1, 2, 3, new double[2], new double[2], new double[2], new double[2], new double[2], new double[6], relu: true));
        Assert.Equal("bias", e.ParamName);
        Assert.Contains("2 values, but has length 0", e.Message);
    }

    private static void FoldedReluCase<T>(T[] x, T[] dz, T[] w, T[] b, int batch, int channels, int plane)
        where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
    {
        int count = x.Length;
        T[] y = new T[count], z = new T[count], zFolded = new T[count], mean = new T[channels], invStd = new T[channels];
        T[] runningMean = new T[channels], runningVar = Array.ConvertAll(new int[channels], _ => T.One);
        Normalization.BatchNormTraining<T>(x, batch, channels, plane, w, b, Epsilon, 0.1, runningMean, runningVar, y, mean, invStd);
        Elementwise.Relu<T>(y, z);
        Normalization.BatchNormTraining<T>(x, batch, channels, plane, w, b, Epsilon, 0.1, new T[channels], new T[channels], zFolded, new T[channels], new T[channels], relu: true);
        Assert.Equal(z, zFolded);
        Assert.Contains(z, v => v == T.Zero);
        Assert.Contains(z, v => v > T.Zero);

        T[] dy = new T[count], dx = new T[count], dxFolded = new T[count];
        T[] dW = new T[channels], dB = new T[channels], dWFolded = new T[channels], dBFolded = new T[channels];
        Elementwise.ReluBackward<T>(z, dz, dy);
        Normalization.BatchNormBackward<T>(x, dy, batch, channels, plane, w, mean, invStd, dW, dB, dx);
        Normalization.BatchNormBackward<T>(x, dz, batch, channels, plane, w, mean, invStd, dWFolded, dBFolded, dxFolded, relu: true, bias: b);
        Assert.Equal(dx, dxFolded);
        Assert.Equal(dW, dWFolded);
        Assert.Equal(dB, dBFolded);

        Normalization.BatchNormInference<T>(x, batch, channels, plane, w, b, runningMean, runningVar, Epsilon, y);
        Elementwise.Relu<T>(y, z);
        Normalization.BatchNormInference<T>(x, batch, channels, plane, w, b, runningMean, runningVar, Epsilon, zFolded, relu: true);
        Assert.Equal(z, zFolded);
    }

    /// <summary>
    /// A residual block's end folded into batch norm (<c>residual:</c> in the forward passes; <c>output:</c> and
    /// <c>residualGradient:</c> in the backward) gives the same bits as batch norm, then <see cref="Elementwise.AddRelu{T}"/>
    /// (or a plain addition without the ReLU) and its backward pass, then batch norm's backward: the sum or its ReLU, the
    /// saved statistics, both input gradients and the parameter gradients; in float and double, training and evaluation, on
    /// planes with and without SIMD tails. A residual of the wrong length is refused with its name.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void FoldedResidual_GivesExactlyWhatTheSeparateAdditionGives(bool relu)
    {
        var random = new Random(23);
        foreach ((int batch, int channels, int plane) in BatchShapes.Append((3, 4, 196)))
        {
            int count = batch * channels * plane;
            double[] x = Random(random, count), skip = Random(random, count), dz = Random(random, count), w = Random(random, channels, 1, 0.5), b = Random(random, channels, 0.5);
            FoldedResidualCase(x, skip, dz, w, b, batch, channels, plane, relu);
            FoldedResidualCase(ToFloat(x), ToFloat(skip), ToFloat(dz), ToFloat(w), ToFloat(b), batch, channels, plane, relu);
        }

        var e = Assert.Throws<ArgumentException>(() => Normalization.BatchNormTraining<double>(new double[6], 1, 2, 3, new double[2], new double[2], Epsilon, 0.1, new double[2], new double[2], new double[6], new double[2], new double[2], relu, residual: new double[5]));
        Assert.Equal("residual", e.ParamName);
        Assert.Contains("1 × 2 × 3 = 6 values, but has length 5", e.Message);
        e = Assert.Throws<ArgumentException>(() => Normalization.BatchNormBackward<double>(new double[6], new double[6], 1, 2, 3, new double[2], new double[2], new double[2], new double[2], new double[2], new double[6], relu, output: new double[6], residualGradient: new double[4]));
        Assert.Equal("residualGradient", e.ParamName);
    }

    private static void FoldedResidualCase<T>(T[] x, T[] skip, T[] dz, T[] w, T[] b, int batch, int channels, int plane, bool relu)
        where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
    {
        int count = x.Length;
        T[] y = new T[count], z = new T[count], zFolded = new T[count], mean = new T[channels], invStd = new T[channels], meanFolded = new T[channels], invStdFolded = new T[channels];
        T[] runningMean = new T[channels], runningVar = Array.ConvertAll(new int[channels], _ => T.One);
        T[] runningMeanFolded = new T[channels], runningVarFolded = Array.ConvertAll(new int[channels], _ => T.One);
        Normalization.BatchNormTraining<T>(x, batch, channels, plane, w, b, Epsilon, 0.1, runningMean, runningVar, y, mean, invStd);
        AddThenRelu(skip, y, z, relu);
        Normalization.BatchNormTraining<T>(x, batch, channels, plane, w, b, Epsilon, 0.1, runningMeanFolded, runningVarFolded, zFolded, meanFolded, invStdFolded, relu, residual: skip);
        Assert.Equal(z, zFolded);
        Assert.Equal(mean, meanFolded);
        Assert.Equal(invStd, invStdFolded);
        Assert.Equal(runningVar, runningVarFolded);
        if (relu)
        {
            Assert.Contains(z, v => v == T.Zero);
            Assert.Contains(z, v => v > T.Zero);
        }

        // Unfolded: the addition's backward writes the masked gradient to both operands, then batch norm's backward reads one.
        T[] dSum = new T[count], dSkip = new T[count], dx = new T[count], dSkipFolded = new T[count], dxFolded = new T[count];
        T[] dW = new T[channels], dB = new T[channels], dWFolded = new T[channels], dBFolded = new T[channels];
        if (relu)
        {
            Elementwise.AddReluBackward<T>(z, dz, dSkip, dSum);
        }
        else
        {
            dz.CopyTo(dSkip, 0);
            dz.CopyTo(dSum, 0);
        }

        Normalization.BatchNormBackward<T>(x, dSum, batch, channels, plane, w, mean, invStd, dW, dB, dx);
        Array.Fill(dSkipFolded, T.CreateTruncating(7)); // overwritten, not added to
        Normalization.BatchNormBackward<T>(x, dz, batch, channels, plane, w, mean, invStd, dWFolded, dBFolded, dxFolded, relu, output: zFolded, residualGradient: dSkipFolded);
        Assert.Equal(dSkip, dSkipFolded);
        Assert.Equal(dx, dxFolded);
        Assert.Equal(dW, dWFolded);
        Assert.Equal(dB, dBFolded);

        Normalization.BatchNormInference<T>(x, batch, channels, plane, w, b, runningMean, runningVar, Epsilon, y);
        AddThenRelu(skip, y, z, relu);
        Normalization.BatchNormInference<T>(x, batch, channels, plane, w, b, runningMean, runningVar, Epsilon, zFolded, relu, residual: skip);
        Assert.Equal(z, zFolded);
    }

    /// <summary>z = skip + y, then its ReLU when <paramref name="relu"/> (the ops a residual block's end runs unfolded).</summary>
    private static void AddThenRelu<T>(T[] skip, T[] y, T[] z, bool relu)
        where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
    {
        if (relu)
        {
            Elementwise.AddRelu<T>(skip, y, z);
            return;
        }

        for (int i = 0; i < z.Length; i++)
        {
            z[i] = skip[i] + y[i];
        }
    }

    /// <summary>
    /// BatchNorm, ReLU and MaxPool in one pass give the same bits as the three ops one after the other: pooled values, their
    /// indices, the saved and the running statistics; on planes the 2×2 vector path takes (14 wide) and ones it does not (odd
    /// sizes, a 3×3 window of stride 2), in float and double.
    /// </summary>
    [Theory]
    [InlineData(3, 4, 28, 28, 2, 2)]
    [InlineData(2, 3, 7, 9, 2, 2)]
    [InlineData(2, 2, 9, 8, 3, 2)]
    public void BatchNormReluMaxPool_GivesExactlyWhatTheThreeOpsGive(int batch, int channels, int height, int width, int kernel, int stride)
    {
        var random = new Random(23);
        int count = batch * channels * height * width;
        double[] x = Random(random, count), w = Random(random, channels, 1, 0.5), b = Random(random, channels, 0.5);
        FusedPoolCase(x, w, b, batch, channels, height, width, kernel, stride);
        FusedPoolCase(ToFloat(x), ToFloat(w), ToFloat(b), batch, channels, height, width, kernel, stride);
    }

    private static void FusedPoolCase<T>(T[] x, T[] w, T[] b, int batch, int channels, int height, int width, int kernel, int stride)
        where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
    {
        int area = height * width, outHeight = ((height - kernel) / stride) + 1, outWidth = ((width - kernel) / stride) + 1, pooledCount = batch * channels * outHeight * outWidth;
        T[] z = new T[x.Length], mean = new T[channels], invStd = new T[channels];
        T[] runningMean = Array.ConvertAll(new int[channels], i => T.CreateTruncating(0.25)), runningVar = Array.ConvertAll(new int[channels], _ => T.One);
        T[] pooled = new T[pooledCount];
        int[] indices = new int[pooledCount];
        Normalization.BatchNormTraining<T>(x, batch, channels, area, w, b, Epsilon, 0.1, runningMean, runningVar, z, mean, invStd, relu: true);
        Pooling.MaxPool<T>(z, batch, channels, height, width, kernel, stride, outHeight, outWidth, pooled, indices);

        T[] fusedMean = new T[channels], fusedInvStd = new T[channels], fusedPooled = new T[pooledCount];
        T[] fusedRunningMean = Array.ConvertAll(new int[channels], i => T.CreateTruncating(0.25)), fusedRunningVar = Array.ConvertAll(new int[channels], _ => T.One);
        int[] fusedIndices = new int[pooledCount];
        Normalization.BatchNormReluMaxPoolTraining<T>(x, batch, channels, height, width, w, b, Epsilon, 0.1, fusedRunningMean, fusedRunningVar, fusedMean, fusedInvStd,
            kernel, stride, outHeight, outWidth, fusedPooled, fusedIndices, new T[area]);

        Assert.Equal(pooled, fusedPooled);
        Assert.Equal(indices, fusedIndices);
        Assert.Equal(mean, fusedMean);
        Assert.Equal(invStd, fusedInvStd);
        Assert.Equal(runningMean, fusedRunningMean);
        Assert.Equal(runningVar, fusedRunningVar);
        Assert.Contains(fusedPooled, v => v == T.Zero); // the ReLU clipped whole windows
        Assert.Contains(fusedIndices, i => i >= area); // indices count within the example, past the first channel

        var e = Assert.Throws<ArgumentException>(() => Normalization.BatchNormReluMaxPoolTraining<T>(x, batch, channels, height, width, w, b, Epsilon, 0.1, fusedRunningMean, fusedRunningVar, fusedMean, fusedInvStd,
            kernel, stride, outHeight, outWidth, fusedPooled, fusedIndices, new T[area - 1]));
        Assert.Contains("plane", e.Message);
    }

    /// <summary>
    /// The folded backward of BatchNorm, ReLU and MaxPool against MaxPool's backward then BatchNorm's (with the ReLU): on
    /// floats with 2×2 windows of stride 2 tiling even planes 8+ windows wide (the path that never stores the ReLU's gradient)
    /// the input gradient differs only by the rounding of the two sums, so within 1e-5 of its largest value, and γ/β within
    /// 1e-5 relative; with pooled gradients of −0 and pooled values of exactly 0 (the ReLU closed). Odd planes, a 3×3 window,
    /// narrow planes and doubles take the two passes through the scratch and give the same bits.
    /// </summary>
    [Theory]
    [InlineData(3, 4, 28, 28, 2, 2)]
    [InlineData(2, 3, 16, 34, 2, 2)]
    [InlineData(2, 3, 7, 9, 2, 2)]
    [InlineData(2, 2, 9, 8, 3, 2)]
    [InlineData(2, 2, 12, 12, 2, 2)]
    public void BatchNormReluMaxPoolBackward_MatchesTheTwoPasses(int batch, int channels, int height, int width, int kernel, int stride)
    {
        var random = new Random(41);
        int count = batch * channels * height * width;
        double[] x = Random(random, count), w = Random(random, channels, 1, 0.5), b = Random(random, channels, 0.5);
        bool fast = kernel == 2 && stride == 2 && height % 2 == 0 && width % 2 == 0 && width / 2 >= 8 && System.Runtime.Intrinsics.X86.Avx2.IsSupported;
        FusedPoolBackwardCase(ToFloat(x), ToFloat(w), ToFloat(b), batch, channels, height, width, kernel, stride, exact: !fast);
        FusedPoolBackwardCase(x, w, b, batch, channels, height, width, kernel, stride, exact: true);
    }

    private static void FusedPoolBackwardCase<T>(T[] x, T[] w, T[] b, int batch, int channels, int height, int width, int kernel, int stride, bool exact)
        where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
    {
        int area = height * width, outHeight = ((height - kernel) / stride) + 1, outWidth = ((width - kernel) / stride) + 1, pooledCount = batch * channels * outHeight * outWidth;
        T[] mean = new T[channels], invStd = new T[channels], pooled = new T[pooledCount];
        T[] runningMean = new T[channels], runningVar = Array.ConvertAll(new int[channels], _ => T.One);
        int[] indices = new int[pooledCount];
        Normalization.BatchNormReluMaxPoolTraining<T>(x, batch, channels, height, width, w, b, Epsilon, 0.1, runningMean, runningVar, mean, invStd, kernel, stride, outHeight, outWidth, pooled, indices, new T[area]);
        if (kernel == 2)
        {
            Assert.Contains(pooled, v => v == T.Zero); // some windows closed by the ReLU (3×3 windows rarely are)
        }

        var random = new Random(43);
        T[] dy = Array.ConvertAll(new int[pooledCount], _ => random.Next(6) == 0 ? -T.Zero : T.CreateTruncating((random.NextDouble() * 2) - 1));
        T[] relu = new T[x.Length], dX = new T[x.Length], dW = Array.ConvertAll(new int[channels], _ => T.One), dB = Array.ConvertAll(new int[channels], _ => T.One);
        Pooling.MaxPoolBackward<T>(dy, indices, batch, channels, height, width, kernel, stride, outHeight, outWidth, relu);
        Normalization.BatchNormBackward<T>(x, relu, batch, channels, area, w, mean, invStd, dW, dB, dX, relu: true, bias: b);

        T[] fusedDX = Array.ConvertAll(new int[x.Length], _ => T.CreateTruncating(7)), fusedDW = Array.ConvertAll(new int[channels], _ => T.One), fusedDB = Array.ConvertAll(new int[channels], _ => T.One);
        Normalization.BatchNormReluMaxPoolBackward<T>(x, dy, pooled, indices, batch, channels, height, width, kernel, stride, outHeight, outWidth, w, b, mean, invStd, fusedDW, fusedDB, fusedDX, new T[x.Length]);
        if (exact)
        {
            Assert.Equal(dX, fusedDX);
            Assert.Equal(dW, fusedDW);
            Assert.Equal(dB, fusedDB);
            return;
        }

        double largest = dX.Max(v => Math.Abs(double.CreateTruncating(v)));
        Assert.True(largest > 0);
        for (int i = 0; i < dX.Length; i++)
        {
            Assert.True(Math.Abs(double.CreateTruncating(dX[i] - fusedDX[i])) <= 1e-5 * largest, $"∂x[{i}]: {fusedDX[i]}, the two passes {dX[i]}");
        }

        for (int c = 0; c < channels; c++)
        {
            Assert.Equal(double.CreateTruncating(dW[c]), double.CreateTruncating(fusedDW[c]), 1e-5 * Math.Max(1, Math.Abs(double.CreateTruncating(dW[c]))));
            Assert.Equal(double.CreateTruncating(dB[c]), double.CreateTruncating(fusedDB[c]), 1e-5 * Math.Max(1, Math.Abs(double.CreateTruncating(dB[c]))));
        }
    }

    /// <summary>
    /// The stem's backward with the convolution's weight gradient folded in, against the two kernels one after the other
    /// (the folded BatchNorm + ReLU + MaxPool backward writing ∂x, then the convolution's backward reading it): the same bits
    /// for ∂γ, ∂β, ∂W and ∂b, overwriting or adding, with and without a bias. Where the fused path runs (floats, the
    /// convolution's single-channel path: AVX-512, output rows 16 to 32 wide) ∂x is never written; elsewhere it is, and
    /// equals the two kernels'.
    /// </summary>
    [Theory]
    [InlineData(3, 5, 28, 28, 1, true, false)]
    [InlineData(2, 4, 18, 18, 0, false, true)] // output rows 16 wide
    [InlineData(2, 3, 16, 34, 1, true, true)] // rows 34 wide: not the single-channel path
    public void BatchNormReluMaxPoolBackward_WithTheConvolution_GivesWhatTheTwoKernelsGive(int batch, int channels, int inHeight, int inWidth, int padding, bool hasBias, bool accumulate)
    {
        var convolution = new PlaneConvolutionShape(1, inHeight, inWidth, channels, 3, padding);
        var random = new Random(47);
        float[] u = ToFloat(Random(random, batch * convolution.InputSize)), cw = ToFloat(Random(random, convolution.WeightCount, 0.5)), cb = ToFloat(Random(random, channels, 0.5));
        float[] w = ToFloat(Random(random, channels, 1, 0.5)), b = ToFloat(Random(random, channels, 0.5));
        int height = convolution.OutHeight, width = convolution.OutWidth, area = height * width, outHeight = height / 2, outWidth = width / 2, pooledCount = batch * channels * outHeight * outWidth;
        float[] x = new float[batch * channels * area];
        var workspace = new PlaneConvolutionWorkspace<float>(convolution);
        PlaneConvolution.Forward<float>(convolution, u, batch, cw, hasBias ? cb : default, x, workspace);
        float[] mean = new float[channels], invStd = new float[channels], pooled = new float[pooledCount], runningMean = new float[channels], runningVar = new float[channels];
        int[] indices = new int[pooledCount];
        Normalization.BatchNormReluMaxPoolTraining<float>(x, batch, channels, height, width, w, b, Epsilon, 0.1, runningMean, runningVar, mean, invStd, 2, 2, outHeight, outWidth, pooled, indices, new float[area]);
        float[] dy = ToFloat(Random(random, pooledCount));

        float[] Start(int count) => Array.ConvertAll(new int[count], i => (float)(0.25 * (i % 5)));
        float[] dX = new float[x.Length], dW = Start(channels), dB = Start(channels), cwg = Start(cw.Length), cbg = hasBias ? Start(channels) : [];
        Normalization.BatchNormReluMaxPoolBackward<float>(x, dy, pooled, indices, batch, channels, height, width, 2, 2, outHeight, outWidth, w, b, mean, invStd, dW, dB, dX, new float[x.Length]);
        PlaneConvolution.Backward<float>(convolution, u, dX, batch, cw, cwg, cbg, accumulate, default, workspace);

        float[] fusedDX = Array.ConvertAll(new float[x.Length], _ => 7f), fusedDW = Start(channels), fusedDB = Start(channels), fusedCwg = Start(cw.Length), fusedCbg = hasBias ? Start(channels) : [];
        Normalization.BatchNormReluMaxPoolBackward<float>(x, dy, pooled, indices, batch, channels, height, width, 2, 2, outHeight, outWidth, w, b, mean, invStd, fusedDW, fusedDB, fusedDX, new float[x.Length],
            convolution, u, cw, fusedCwg, fusedCbg, accumulate, workspace);
        Assert.Equal(dW, fusedDW);
        Assert.Equal(dB, fusedDB);
        Assert.Equal(cwg, fusedCwg);
        Assert.Equal(cbg, fusedCbg);
        bool fused = System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Avx512F.IsSupported && width is >= 16 and <= 32;
        if (fused)
        {
            Assert.All(fusedDX, v => Assert.Equal(7f, v)); // never stored
        }
        else
        {
            Assert.Equal(dX, fusedDX);
        }
    }

    [Fact]
    public void WarmCalls_AllocateNothing()
    {
        var random = new Random(17);
        double[] x = Random(random, 2 * 3 * 33), y = new double[x.Length], dx = new double[x.Length], w = Random(random, 33), b = Random(random, 33);
        double[] mean = new double[6], invStd = new double[6], rm = new double[3], rv = [1.0, 1, 1], dW = new double[33], dB = new double[33];
        float[] xf = ToFloat(x), yf = new float[x.Length], dxf = new float[x.Length], wf = ToFloat(w), bf = ToFloat(b);
        float[] meanF = new float[6], invStdF = new float[6], rmf = new float[3], rvf = [1f, 1, 1], dWf = new float[33], dBf = new float[33];
        long bytes = AllocatedBytes(() =>
        {
            Normalization.BatchNormTraining<double>(x, 2, 3, 33, w, b, Epsilon, 0.1, rm, rv, y, mean, invStd);
            Normalization.BatchNormInference<double>(x, 2, 3, 33, w, b, rm, rv, Epsilon, y);
            Normalization.BatchNormBackward<double>(x, y, 2, 3, 33, w, mean, invStd, dW, dB, dx);
            Normalization.LayerNorm<double>(x, 6, 33, w, b, Epsilon, y, mean, invStd);
            Normalization.LayerNormBackward<double>(x, y, 6, 33, w, mean, invStd, dW, dB, dx);
            Normalization.BatchNormTraining<float>(xf, 2, 3, 33, wf, bf, Epsilon, 0.1, rmf, rvf, yf, meanF, invStdF);
            Normalization.BatchNormBackward<float>(xf, yf, 2, 3, 33, wf, meanF, invStdF, dWf, dBf, dxf);
            Normalization.LayerNorm<float>(xf, 6, 33, wf, bf, Epsilon, yf, meanF, invStdF);
            Normalization.LayerNormBackward<float>(xf, yf, 6, 33, wf, meanF, invStdF, dWf, dBf, dxf);
        });
        Assert.Equal(0, bytes);
    }

    private static double[] Add(double[] a, double[] b)
    {
        double[] sum = new double[a.Length];
        for (int i = 0; i < a.Length; i++)
        {
            sum[i] = a[i] + b[i];
        }

        return sum;
    }
}
