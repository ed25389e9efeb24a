using System;
using System.Linq;
using StaticGrad.Tests.Infrastructure;
using StaticGrad.Tests.Numerics;
using StaticGrad.Training;
using Xunit;

namespace StaticGrad.Tests.Networks;

/// <summary>
/// The image layers: gradient checks of whole networks (every spatial layer, strides, padding, odd sizes, 1×1 kernels,
/// 1 and 3 channels), forward passes against plain loops written from PyTorch's definitions, Dropout's two modes,
/// and the CNN training without allocating.
/// </summary>
public class ConvolutionTests
{
    private const int Batch = 2;

    public static TheoryData<string> Networks => new() { nameof(TinyCnn), nameof(StridedCnn), nameof(PointwiseCnn), nameof(ConvOnly), nameof(PoolFirst), nameof(ActivationFirst), nameof(DropoutFirst) };

    private static INetwork Create(string name, int seed) => name switch
    {
        nameof(TinyCnn) => new TinyCnn(seed: seed),
        nameof(StridedCnn) => new StridedCnn(seed: seed),
        nameof(PointwiseCnn) => new PointwiseCnn(seed: seed),
        nameof(ConvOnly) => new ConvOnly(seed: seed),
        nameof(ActivationFirst) => new ActivationFirst(seed: seed),
        nameof(DropoutFirst) => new DropoutFirst(seed: seed),
        _ => new PoolFirst(seed: seed),
    };

    private static (int In, int Out) Sizes(string name) => name switch
    {
        nameof(TinyCnn) => (TinyCnn.InputSize, TinyCnn.OutputSize),
        nameof(StridedCnn) => (StridedCnn.InputSize, StridedCnn.OutputSize),
        nameof(PointwiseCnn) => (PointwiseCnn.InputSize, PointwiseCnn.OutputSize),
        nameof(ConvOnly) => (ConvOnly.InputSize, ConvOnly.OutputSize),
        nameof(ActivationFirst) => (ActivationFirst.InputSize, ActivationFirst.OutputSize),
        nameof(DropoutFirst) => (DropoutFirst.InputSize, DropoutFirst.OutputSize),
        _ => (PoolFirst.InputSize, PoolFirst.OutputSize),
    };

    [Theory]
    [MemberData(nameof(Networks))]
    public void GradientCheck_ParametersAndInputs(string name)
    {
        INetwork net = Create(name, seed: 3);
        var (inputSize, outputSize) = Sizes(name);
        var random = new Random(11);
        Span<double> parameters = net.Parameters;
        for (int i = 0; i < parameters.Length; i++)
        {
            parameters[i] += 0.1 * ((random.NextDouble() * 2) - 1); // biases away from 0 too
        }

        double[] x = Reference.Randn(random, Batch * inputSize);
        double[] g = Reference.Randn(random, Batch * outputSize);

        // L = Σ G⊙Y, so ∂L/∂Y = G. Max pooling's ties and ReLU's kink are not within h of these random values.
        double Loss()
        {
            var y = new double[Batch * outputSize];
            net.Forward(x, y);
            return y.Zip(g, (a, b) => a * b).Sum();
        }

        net.ZeroGradients();
        net.Forward(x, new double[Batch * outputSize]);
        var dX = new double[x.Length];
        net.Backward(g, dX);

        GradientCheckTests.CheckAll($"{name} parameters", net.Gradients.ToArray(), net.Parameters.ToArray(), v => v.CopyTo(net.Parameters), Loss);
        GradientCheckTests.CheckAll($"{name} inputs", dX, x, v => v.CopyTo(x, 0), Loss);
    }

    /// <summary>
    /// Backward works on the batch Forward ran on, even when the caller has since overwritten its array: Forward keeps its
    /// own copy, whether or not the first layer reads a caller's batch in place elsewhere (TrainStep, Predict).
    /// </summary>
    [Theory]
    [MemberData(nameof(Networks))]
    public void Backward_UsesTheBatchForwardRanOn_AfterTheCallerOverwritesIt(string name)
    {
        var (inputSize, outputSize) = Sizes(name);
        var random = new Random(5);
        double[] x = Reference.Randn(random, Batch * inputSize);
        double[] g = Reference.Randn(random, Batch * outputSize);

        INetwork intact = Create(name, seed: 4);
        intact.Forward(x, new double[Batch * outputSize]);
        var intactInputGradient = new double[x.Length];
        intact.Backward(g, intactInputGradient);

        INetwork overwritten = Create(name, seed: 4);
        double[] scratch = (double[])x.Clone();
        overwritten.Forward(scratch, new double[Batch * outputSize]);
        Array.Fill(scratch, 1e3);
        var overwrittenInputGradient = new double[x.Length];
        overwritten.Backward(g, overwrittenInputGradient);

        Assert.Equal(intact.Gradients.ToArray(), overwritten.Gradients.ToArray());
        Assert.Equal(intactInputGradient, overwrittenInputGradient);
        Assert.Contains(intact.Gradients.ToArray(), v => v != 0);
    }

    [Fact]
    public void ConvOnly_Forward_MatchesPlainLoopsOfPyTorchsDefinitions()
    {
        var net = new ConvOnly(seed: 5);
        var random = new Random(5);
        double[] x = Reference.Randn(random, Batch * ConvOnly.InputSize);
        var y = new double[Batch * ConvOnly.OutputSize];
        net.Forward(x, y);

        // Conv2d(3, 4, 4, Stride = 3, Padding = 2, Bias = false) on 3×9×8 → 4×4×3, MaxPool2d(2, Stride = 1) → 4×3×2, Conv2d(4, 2, 2) → 2×2×1.
        double[] w0 = net.Layer0Weight.ToArray();
        double[] w2 = net.Layer2Weight.ToArray(), b2 = net.Layer2Bias.ToArray();
        for (int b = 0; b < Batch; b++)
        {
            double[] example = x.Skip(b * ConvOnly.InputSize).Take(ConvOnly.InputSize).ToArray();
            double[] c0 = Conv(example, 3, 9, 8, w0, null, 4, 4, 3, 2, out int h0, out int v0);
            double[] p1 = MaxPool(c0, 4, h0, v0, 2, 1, out int h1, out int v1);
            double[] c2 = Conv(p1, 4, h1, v1, w2, b2, 2, 2, 1, 0, out _, out _);
            for (int i = 0; i < c2.Length; i++)
            {
                Assert.Equal(c2[i], y[(b * ConvOnly.OutputSize) + i], 12);
            }
        }
    }

    [Fact]
    public void StridedCnn_Forward_MatchesPlainLoops_WithAveragePooling()
    {
        var net = new StridedCnn(seed: 6);
        var random = new Random(6);
        double[] x = Reference.Randn(random, Batch * StridedCnn.InputSize);
        var y = new double[Batch * StridedCnn.OutputSize];
        net.Forward(x, y);
        for (int b = 0; b < Batch; b++)
        {
            double[] example = x.Skip(b * StridedCnn.InputSize).Take(StridedCnn.InputSize).ToArray();
            double[] c0 = Conv(example, 2, 7, 5, net.Layer0Weight.ToArray(), net.Layer0Bias.ToArray(), 3, 3, 2, 1, out int h0, out int v0).Select(Math.Tanh).ToArray();
            double[] p = AvgPool(c0, 3, h0, v0, 2, 1, out _, out _);
            double[] w = net.Layer4Weight.ToArray(), bias = net.Layer4Bias.ToArray();
            for (int o = 0; o < 2; o++)
            {
                double expected = bias[o] + Enumerable.Range(0, 18).Sum(k => w[(o * 18) + k] * p[k]);
                Assert.Equal(expected, y[(b * 2) + o], 12);
            }
        }
    }

    [Fact]
    public void TrainStep_ReplacesTheGradients_WhateverTheyHeldBefore()
    {
        // The lowered networks' TrainStep clears nothing: Linear and Conv2d (both its paths: padded planes for stride 1,
        // im2row for stride 2) write their gradients instead of adding. Stale values in Gradients must not leak into the step.
        var random = new Random(11);
        int[] labels = { 0, 2, 1, 0, 2 };
        double[] x = Reference.Randn(random, 5 * TinyCnn.InputSize);
        var clean = new TinyCnn(seed: 3, maxBatchSize: 5) { Optimizer = new Sgd(0.05) };
        var stale = new TinyCnn(seed: 3, maxBatchSize: 5) { Optimizer = new Sgd(0.05) };
        stale.Gradients.Fill(1e6);
        Assert.Equal(clean.TrainStep(x, labels), stale.TrainStep(x, labels));
        Assert.Equal(clean.Gradients.ToArray(), stale.Gradients.ToArray());
        Assert.Equal(clean.Parameters.ToArray(), stale.Parameters.ToArray());

        double[] y = Reference.Randn(random, 4 * StridedCnn.InputSize), targets = Reference.Randn(random, 4 * StridedCnn.OutputSize);
        var cleanStrided = new StridedCnn(seed: 4, maxBatchSize: 4) { Optimizer = new Sgd(0.05) };
        var staleStrided = new StridedCnn(seed: 4, maxBatchSize: 4) { Optimizer = new Sgd(0.05) };
        staleStrided.Gradients.Fill(-1e6);
        Assert.Equal(cleanStrided.TrainStep(y, targets), staleStrided.TrainStep(y, targets));
        Assert.Equal(cleanStrided.Gradients.ToArray(), staleStrided.Gradients.ToArray());
        Assert.Equal(cleanStrided.Parameters.ToArray(), staleStrided.Parameters.ToArray());

        // Backward still adds: after the step, Backward of the same batch gives the step's gradients plus its own.
        double[] afterStep = cleanStrided.Gradients.ToArray();
        var outputs = new double[4 * StridedCnn.OutputSize];
        cleanStrided.Forward(y, outputs);
        double[] outputGradients = Reference.Randn(random, outputs.Length);
        cleanStrided.Backward(outputGradients);
        double[] added = cleanStrided.Gradients.ToArray();
        cleanStrided.ZeroGradients();
        cleanStrided.Backward(outputGradients);
        double[] alone = cleanStrided.Gradients.ToArray();
        for (int i = 0; i < added.Length; i++)
        {
            Assert.Equal(afterStep[i] + alone[i], added[i], 12);
        }
    }

    [Fact]
    public void Dropout_IsTheIdentityInForward_AndDropsInTrainingSteps_Reproducibly()
    {
        var random = new Random(8);
        double[] x = Reference.Randn(random, 16 * PointwiseCnn.InputSize);
        int[] labels = Enumerable.Range(0, 16).Select(i => i % 4).ToArray();

        // Forward: Dropout passes values through, so two forward passes agree and equal the network without it.
        var net = new PointwiseCnn(seed: 1, maxBatchSize: 16);
        var first = new double[16 * 4];
        var second = new double[16 * 4];
        net.Forward(x, first);
        net.Forward(x, second);
        Assert.Equal(first, second);

        // Training: the same seed gives the same steps; about half the values are dropped (p = 0.5).
        var a = new PointwiseCnn(seed: 2, maxBatchSize: 16) { Optimizer = new Sgd(0.1) };
        var b = new PointwiseCnn(seed: 2, maxBatchSize: 16) { Optimizer = new Sgd(0.1) };
        for (int step = 0; step < 3; step++)
        {
            Assert.Equal(a.TrainStep(x, labels), b.TrainStep(x, labels));
        }

        Assert.Equal(a.Parameters.ToArray(), b.Parameters.ToArray());
        double[] gradients = a.Layer4WeightGradient.ToArray();
        double zeroColumns = Enumerable.Range(0, 50).Count(k => Enumerable.Range(0, 4).All(o => gradients[(o * 50) + k] == 0));
        Assert.InRange(zeroColumns, 0, 10); // each input feature is kept for some example of the 16

        // The loss of a training step differs from the loss without dropout (values were dropped).
        var c = new PointwiseCnn(seed: 2, maxBatchSize: 16) { Optimizer = new Sgd(0.1) };
        double trainingLoss = c.TrainStep(x, labels);
        var d = new PointwiseCnn(seed: 2, maxBatchSize: 16);
        Assert.NotEqual(d.EvaluateLoss(x, labels), trainingLoss);
    }

    [Fact]
    public void FashionCnn_Trains_AndAllocatesNothingPerStep()
    {
        const int Count = 64, BatchSize = 16;
        var random = new Random(9);
        float[] images = Enumerable.Range(0, Count * FashionCnnFloat.InputSize).Select(_ => (float)random.NextDouble()).ToArray();
        byte[] labels = Enumerable.Range(0, Count).Select(i => (byte)(i % 10)).ToArray();
        var net = new FashionCnnFloat(seed: 1, maxBatchSize: BatchSize) { Optimizer = new Adam(3e-3) };
        var batches = new MiniBatches<float, byte>(images, labels, FashionCnnFloat.InputSize, BatchSize, seed: 1);
        double firstLoss = net.TrainEpoch(batches).MeanLoss;

        // Steady state: epochs allocate nothing. The runtime may allocate once on this thread at a moment that depends on
        // the load (CI once saw 264 bytes in the sixth epoch), so one of the four windows may allocate; an allocation per
        // step would show in all of them.
        EpochResult result = net.TrainEpoch(batches);
        Allocations.AssertSteadyStateAllocatesNothing(() => result = net.TrainEpoch(batches), stepsPerWindow: 1, windows: 4);
        Assert.True(result.MeanLoss < firstLoss * 0.8, $"loss {firstLoss} → {result.MeanLoss}");
    }

    /// <summary>nn.Conv2d on one example, straight from its definition.</summary>
    private static double[] Conv(double[] x, int channels, int height, int width, double[] w, double[]? bias, int outChannels, int kernel, int stride, int padding, out int outHeight, out int outWidth)
    {
        int oh = ((height + (2 * padding) - kernel) / stride) + 1, ow = ((width + (2 * padding) - kernel) / stride) + 1;
        var y = new double[outChannels * oh * ow];
        for (int o = 0; o < outChannels; o++)
        {
            for (int i = 0; i < oh; i++)
            {
                for (int j = 0; j < ow; j++)
                {
                    double sum = bias?[o] ?? 0;
                    for (int c = 0; c < channels; c++)
                    {
                        for (int ki = 0; ki < kernel; ki++)
                        {
                            for (int kj = 0; kj < kernel; kj++)
                            {
                                int r = (i * stride) - padding + ki, s = (j * stride) - padding + kj;
                                if (r >= 0 && r < height && s >= 0 && s < width)
                                {
                                    sum += w[(((o * channels) + c) * kernel + ki) * kernel + kj] * x[(((c * height) + r) * width) + s];
                                }
                            }
                        }
                    }

                    y[(((o * oh) + i) * ow) + j] = sum;
                }
            }
        }

        outHeight = oh;
        outWidth = ow;
        return y;
    }

    private static double[] MaxPool(double[] x, int channels, int height, int width, int kernel, int stride, out int outHeight, out int outWidth) =>
        Pool(x, channels, height, width, kernel, stride, window => window.Max(), out outHeight, out outWidth);

    private static double[] AvgPool(double[] x, int channels, int height, int width, int kernel, int stride, out int outHeight, out int outWidth) =>
        Pool(x, channels, height, width, kernel, stride, window => window.Average(), out outHeight, out outWidth);

    private static double[] Pool(double[] x, int channels, int height, int width, int kernel, int stride, Func<double[], double> reduce, out int outHeight, out int outWidth)
    {
        int oh = ((height - kernel) / stride) + 1, ow = ((width - kernel) / stride) + 1;
        var y = new double[channels * oh * ow];
        for (int c = 0; c < channels; c++)
        {
            for (int i = 0; i < oh; i++)
            {
                for (int j = 0; j < ow; j++)
                {
                    double[] window = (from ki in Enumerable.Range(0, kernel)
                                       from kj in Enumerable.Range(0, kernel)
                                       select x[(((c * height) + (i * stride) + ki) * width) + (j * stride) + kj]).ToArray();
                    y[(((c * oh) + i) * ow) + j] = reduce(window);
                }
            }
        }

        outHeight = oh;
        outWidth = ow;
        return y;
    }
}
