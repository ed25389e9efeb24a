using System;
using System.Globalization;
using System.IO;
using System.Linq;
using StaticGrad.Tests.Numerics;
using StaticGrad.Tests.Package;
using StaticGrad.Tests.Infrastructure;
using Xunit;

namespace StaticGrad.Tests.Networks;

/// <summary>Optimizer arithmetic, zero allocations per step, and that training actually learns.</summary>
public class TrainingTests
{
    [Fact]
    public void Sgd_WithWeightDecay_DecaysWeightsNotBiases()
    {
        var (net, before, gradients) = NetWithGradients();
        net.UseSgd(learningRate: 0.1, weightDecay: 0.01);
        net.Step();

        for (int e = 0; e < 20; e++) // W: 4×5
        {
            Assert.Equal(before[e] - (0.1 * (gradients[e] + (0.01 * before[e]))), net.Parameters[e], 15);
        }

        for (int e = 20; e < 24; e++) // b: 4
        {
            Assert.Equal(before[e] - (0.1 * gradients[e]), net.Parameters[e], 15);
        }
    }

    [Fact]
    public void Sgd_WithMomentum_AccumulatesVelocity()
    {
        var (net, before, g) = NetWithGradients();
        net.UseSgd(learningRate: 0.1, momentum: 0.9);
        net.Step();
        net.Step(); // same gradients: v₁ = g, v₂ = 0.9·g + g

        for (int e = 0; e < before.Length; e++)
        {
            Assert.Equal(before[e] - (0.1 * g[e]) - (0.1 * 1.9 * g[e]), net.Parameters[e], 14);
        }
    }

    [Fact]
    public void Adam_WithConstantGradient_MovesEachParameterByLearningRateTimesSign()
    {
        // With a constant gradient g, Adam's bias-corrected moments are m̂ = g and v̂ = g² at every step,
        // so each step is θ −= η·g/(|g| + ε): a closed form independent of the implementation.
        var (net, before, g) = NetWithGradients();
        net.UseAdam(learningRate: 0.01, epsilon: 1e-8);
        net.Step();
        net.Step();
        net.Step();

        for (int e = 0; e < before.Length; e++)
        {
            Assert.Equal(before[e] - (3 * 0.01 * g[e] / (Math.Abs(g[e]) + 1e-8)), net.Parameters[e], 12);
        }
    }

    [Fact]
    public void Optimizers_RejectBadSettings()
    {
        var net = new LinearOnly();
        Assert.Equal("learningRate", Assert.Throws<ArgumentOutOfRangeException>(() => net.UseSgd(0)).ParamName);
        Assert.Equal("momentum", Assert.Throws<ArgumentOutOfRangeException>(() => net.UseSgd(0.1, momentum: 1)).ParamName);
        Assert.Equal("beta2", Assert.Throws<ArgumentOutOfRangeException>(() => net.UseAdam(beta2: 1.5)).ParamName);
        Assert.Equal("weightDecay", Assert.Throws<ArgumentOutOfRangeException>(() => net.UseAdam(weightDecay: -1)).ParamName);
    }

    [Fact]
    public void TrainStep_InSteadyState_AllocatesNothing()
    {
        var net = new DigitNetFloat(seed: 1, maxBatchSize: 32);
        net.UseAdam(learningRate: 0.001f, weightDecay: 1e-4f);
        var random = new Random(3);
        float[] x = Reference.ToFloat(Reference.Randn(random, 32 * 64));
        int[] labels = Enumerable.Range(0, 32).Select(i => i % 10).ToArray();
        float[] outputs = new float[32 * 10];

        for (int i = 0; i < 5; i++)
        {
            net.TrainStep(x, labels); // warm up: JIT and tiering
            net.Forward(x, outputs);
            net.Backward(outputs);
            net.Accuracy(x, labels);
        }

        Allocations.AssertSteadyStateAllocatesNothing(() =>
        {
            for (int i = 0; i < 7; i++)
            {
                net.TrainStep(x, labels);
            }

            net.Forward(x, outputs);
            net.Backward(outputs);
            net.Accuracy(x, labels);
        }, stepsPerWindow: 1);
    }

    [Fact]
    public void TrainStep_RejectsBadBatches_WithoutTouchingParameters()
    {
        var net = new DigitNetFloat(seed: 1, maxBatchSize: 4);
        float[] before = net.Parameters.ToArray();
        var ex = Assert.Throws<ArgumentException>(() => net.TrainStep(new float[5 * 64], new int[5]));
        Assert.Equal("inputs", ex.ParamName);
        Assert.Contains("at most 4 examples", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => net.TrainStep(new float[2 * 64], new int[3]));
        Assert.Equal("labels", ex.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => net.TrainStep(new float[2 * 64], new[] { 0, 10 }));
        Assert.Equal(before, net.Parameters.ToArray());
    }

    [Fact]
    public void Backward_BeforeForward_SaysWhatToDo()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => new DigitNetFloat().Backward(new float[10]));
        Assert.Contains("call Forward first", ex.Message);
    }

    [Fact]
    public void SameSeed_SameNetwork_OtherSeed_OtherNetwork()
    {
        Assert.Equal(new DigitNetFloat(seed: 5).Parameters.ToArray(), new DigitNetFloat(seed: 5).Parameters.ToArray());
        Assert.NotEqual(new DigitNetFloat(seed: 5).Parameters.ToArray(), new DigitNetFloat(seed: 6).Parameters.ToArray());
    }

    [Fact]
    public void HeInitialisation_HasTheDocumentedSpread()
    {
        // Layer 0 is followed by ReLU: W ~ N(0, 2/64), so the sample standard deviation of its 2,048 weights is near √(2/64) ≈ 0.177.
        float[] w = new DigitNetFloat(seed: 9).Layer0Weight.ToArray();
        double mean = w.Average(v => (double)v);
        double std = Math.Sqrt(w.Average(v => (v - mean) * (v - mean)));
        Assert.InRange(std, 0.177 * 0.93, 0.177 * 1.07);
        // Layer 2 is last: Xavier-uniform on ±√(6/42) ≈ ±0.378.
        Assert.All(new DigitNetFloat(seed: 9).Layer2Weight.ToArray(), v => Assert.InRange(v, -0.378f, 0.378f));
        Assert.All(new DigitNetFloat(seed: 9).Layer0Bias.ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Iris_TrainsToHighAccuracy()
    {
        var (x, y) = LoadIris();
        var net = new IrisTestNet(seed: 0, maxBatchSize: 150);
        net.UseAdam(learningRate: 0.05f);
        float first = net.TrainStep(x, y);
        float last = first;
        for (int epoch = 0; epoch < 300; epoch++)
        {
            last = net.TrainStep(x, y);
        }

        Assert.True(last < first / 5, $"loss went from {first} to {last}");
        Assert.True(net.Accuracy(x, y) >= 0.95, $"training accuracy {net.Accuracy(x, y)}");
    }

    private static (float[] X, int[] Y) LoadIris()
    {
        string path = Path.Combine(DotNetCli.RepositoryRoot(), "samples", "Data", "iris.csv");
        var rows = File.ReadAllLines(path).Skip(1).Where(l => l.Length > 0).Select(l => l.Split(',')).ToArray();
        float[] x = rows.SelectMany(r => r.Take(4).Select(v => float.Parse(v, CultureInfo.InvariantCulture))).ToArray();
        int[] y = rows.Select(r => int.Parse(r[4], CultureInfo.InvariantCulture)).ToArray();
        return (x, y);
    }

    private static (LinearOnly Net, double[] Before, double[] Gradients) NetWithGradients()
    {
        var net = new LinearOnly(seed: 4);
        var random = new Random(5);
        double[] x = Reference.Randn(random, 2 * 5);
        var y = new double[2 * 4];
        net.Forward(x, y);
        net.Backward(Reference.Randn(random, 2 * 4));
        return (net, net.Parameters.ToArray(), net.Gradients.ToArray());
    }
}

[Linear(4, 8), Tanh, Linear(8, 3), SoftmaxCrossEntropy]
public partial class IrisTestNet;
