using System;
using System.Linq;
using StaticGrad.Tests.Networks;
using StaticGrad.Training;
using Xunit;

namespace StaticGrad.Tests.Training;

/// <summary>
/// The training API of generated networks: an explicit optimizer, optimizers steered between steps (checked against
/// PyTorch's update rules computed here in double), clipping, schedules, the non-finite guard, labels of every type,
/// the shared interfaces, and no allocation per step with everything switched on.
/// </summary>
public sealed class TrainingApiTests
{
    private static float[] Inputs(int rows, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, rows * DigitNetFloat.InputSize).Select(_ => (float)random.NextDouble()).ToArray();
    }

    private static int[] Labels(int rows, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, rows).Select(_ => random.Next(DigitNetFloat.OutputSize)).ToArray();
    }

    [Fact]
    public void TrainStep_WithoutAnOptimizer_Throws_AndChangesNothing()
    {
        var net = new DigitNetFloat(seed: 1, maxBatchSize: 8);
        float[] before = net.Parameters.ToArray();
        float[] gradients = net.Gradients.ToArray();

        var error = Assert.Throws<InvalidOperationException>(() => net.TrainStep(Inputs(8, 1), Labels(8, 1)));

        Assert.Contains("No optimizer chosen: call UseAdam(...), UseSgd(...) or UseAdamW(...), or set Optimizer", error.Message);
        Assert.Equal(before, net.Parameters.ToArray());
        Assert.Equal(gradients, net.Gradients.ToArray());
        Assert.Throws<InvalidOperationException>(() => net.Step());
        Assert.Null(net.Optimizer);
    }

    [Fact]
    public void TooLargeABatch_SaysWhichConstructorArgumentToChange()
    {
        var net = new DigitNetFloat(seed: 1, maxBatchSize: 4);
        net.UseSgd(0.1);
        var error = Assert.Throws<ArgumentException>(() => net.TrainStep(Inputs(6, 1), Labels(6, 1)));
        Assert.Equal("inputs", error.ParamName);
        Assert.Contains("construct the network with maxBatchSize: 6 or more", error.Message);
    }

    [Fact]
    public void Labels_AsBytesUshortsAndInts_GiveIdenticalTraining()
    {
        int[] labels = Labels(16, 2);
        float[] inputs = Inputs(16, 2);
        var asInt = new DigitNetFloat(seed: 3, maxBatchSize: 16);
        var asByte = new DigitNetFloat(seed: 3, maxBatchSize: 16);
        var asUshort = new DigitNetFloat(seed: 3, maxBatchSize: 16);
        foreach (var net in new[] { asInt, asByte, asUshort })
        {
            net.UseAdam(0.01);
        }

        byte[] bytes = labels.Select(l => (byte)l).ToArray();
        ushort[] ushorts = labels.Select(l => (ushort)l).ToArray();
        for (int step = 0; step < 5; step++)
        {
            float a = asInt.TrainStep(inputs, labels);
            Assert.Equal(a, asByte.TrainStep(inputs, bytes));
            Assert.Equal(a, asUshort.TrainStep(inputs, ushorts));
        }

        Assert.Equal(asInt.Parameters.ToArray(), asByte.Parameters.ToArray());
        Assert.Equal(asInt.Parameters.ToArray(), asUshort.Parameters.ToArray());
        Assert.Equal(asInt.Accuracy(inputs, labels), asInt.Accuracy(inputs, bytes));
        Assert.Equal(asInt.Accuracy(inputs, labels), asInt.Accuracy(inputs, ushorts));
        Assert.Equal(asInt.EvaluateLoss(inputs, labels), asInt.EvaluateLoss(inputs, bytes));
        Assert.Equal(asInt.EvaluateLoss(inputs, labels), asInt.EvaluateLoss(inputs, ushorts));
        float[] outputs = new float[16 * 10], g1 = new float[16 * 10], g2 = new float[16 * 10];
        asInt.Forward(inputs, outputs);
        Assert.Equal(asInt.ComputeLoss(outputs, labels, g1), asInt.ComputeLoss(outputs, bytes, g2));
        Assert.Equal(g1, g2);
    }

    [Fact]
    public void ByteLabel_OutOfRange_IsRejected_BeforeAnythingChanges()
    {
        var net = new DigitNetFloat(seed: 1, maxBatchSize: 4);
        net.UseSgd(0.1);
        float[] before = net.Parameters.ToArray();
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => net.TrainStep(Inputs(2, 1), new byte[] { 3, 200 }));
        Assert.Equal("labels", error.ParamName);
        Assert.Contains("labels[1] must be a class in [0, 10)", error.Message);
        Assert.Equal(before, net.Parameters.ToArray());
    }

    /// <summary>Adam in double with PyTorch's formulas, fed the network's own gradients.</summary>
    private sealed class ReferenceAdam(int count, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8)
    {
        private readonly double[] _m = new double[count], _v = new double[count];
        private int _t;

        public double[] Step(double[] theta, double[] g, double lr, double weightDecay, bool decoupled, Func<int, bool> isWeight)
        {
            _t++;
            double[] next = new double[theta.Length];
            for (int i = 0; i < theta.Length; i++)
            {
                double p = theta[i], grad = g[i];
                double decay = isWeight(i) ? weightDecay : 0;
                if (decoupled)
                {
                    p *= 1 - (lr * decay);
                }
                else
                {
                    grad += decay * p;
                }

                _m[i] = (beta1 * _m[i]) + ((1 - beta1) * grad);
                _v[i] = (beta2 * _v[i]) + ((1 - beta2) * grad * grad);
                double mHat = _m[i] / (1 - Math.Pow(beta1, _t)), vHat = _v[i] / (1 - Math.Pow(beta2, _t));
                next[i] = p - (lr * mHat / (Math.Sqrt(vHat) + epsilon));
            }

            return next;
        }
    }

    private static bool IsWeight(int index) => index < 64 * 32 || (index >= (64 * 32) + 32 && index < (64 * 32) + 32 + (32 * 10));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ChangingTheLearningRate_MidTraining_KeepsAdamsState(bool adamW)
    {
        var net = new DigitNetDouble(seed: 4, maxBatchSize: 8);
        Optimizer optimizer = adamW ? new AdamW(learningRate: 0.01, weightDecay: 0.05) : new Adam(learningRate: 0.01, weightDecay: 0.05);
        net.Optimizer = optimizer;
        var reference = new ReferenceAdam(DigitNetDouble.ParameterCount);
        double[] inputs = Inputs(8, 4).Select(v => (double)v).ToArray();
        int[] labels = Labels(8, 4);
        double[] lrs = { 0.01, 0.01, 0.01, 0.002, 0.002, 0.0005 };
        for (int step = 0; step < lrs.Length; step++)
        {
            optimizer.LearningRate = lrs[step];
            double[] before = net.Parameters.ToArray();
            net.TrainStep(inputs, labels);
            double[] expected = reference.Step(before, net.Gradients.ToArray(), lrs[step], 0.05, adamW, IsWeight);
            double[] actual = net.Parameters.ToArray();
            for (int i = 0; i < actual.Length; i++)
            {
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-12 + (1e-10 * Math.Abs(expected[i])), $"step {step}, parameter {i}: expected {expected[i]:R}, got {actual[i]:R}");
            }
        }

        Assert.Equal(lrs.Length, optimizer.Steps);
    }

    [Fact]
    public void ClippingByGlobalNorm_ReportsTheNorm_AndScalesTheUpdate_AsPyTorch()
    {
        var net = new DigitNetDouble(seed: 5, maxBatchSize: 8);
        var sgd = new Sgd(learningRate: 0.1) { MaxGradientNorm = 0.05 };
        net.Optimizer = sgd;
        double[] inputs = Inputs(8, 5).Select(v => (double)v).ToArray();
        double[] outputs = new double[8 * 10], outputGradients = new double[8 * 10];
        net.Forward(inputs, outputs);
        net.ComputeLoss(outputs, Labels(8, 5), outputGradients);
        net.ZeroGradients();
        net.Backward(outputGradients);
        double[] g = net.Gradients.ToArray();
        double[] before = net.Parameters.ToArray();
        double norm = Math.Sqrt(g.Sum(v => v * v));
        Assert.True(norm > 0.05, "the test needs a norm above the limit");

        net.Step();

        Assert.Equal(norm, sgd.LastGradientNorm, 12);
        double coefficient = 0.05 / (norm + 1e-6); // torch.nn.utils.clip_grad_norm_
        double[] after = net.Parameters.ToArray();
        for (int i = 0; i < after.Length; i++)
        {
            Assert.Equal(before[i] - (0.1 * g[i] * coefficient), after[i], 14);
        }
    }

    [Fact]
    public void Schedule_SetsEachStepsLearningRate()
    {
        var net = new DigitNetDouble(seed: 6, maxBatchSize: 8);
        var sgd = new Sgd(learningRate: 0.2) { Schedule = new StepDecay(stepSize: 2, gamma: 0.5) };
        net.Optimizer = sgd;
        double[] inputs = Inputs(8, 6).Select(v => (double)v).ToArray();
        int[] labels = Labels(8, 6);
        double[] expectedRates = { 0.2, 0.2, 0.1, 0.1, 0.05 }; // StepLR(step_size=2, gamma=0.5)
        foreach (double rate in expectedRates)
        {
            Assert.Equal(rate, sgd.CurrentLearningRate, 15);
            double[] before = net.Parameters.ToArray();
            net.TrainStep(inputs, labels);
            double[] g = net.Gradients.ToArray();
            double[] after = net.Parameters.ToArray();
            for (int i = 0; i < after.Length; i += 97)
            {
                Assert.Equal(before[i] - (rate * g[i]), after[i], 14);
            }
        }
    }

    [Fact]
    public void SkipNonFiniteLoss_LeavesParametersAndStateAsTheyWere()
    {
        var net = new DigitNetFloat(seed: 7, maxBatchSize: 4);
        var adam = new Adam(0.01) { SkipNonFiniteLoss = true };
        net.Optimizer = adam;
        float[] inputs = Inputs(2, 7);
        net.TrainStep(inputs, new[] { 1, 2 });
        float[] before = net.Parameters.ToArray();
        inputs[3] = float.PositiveInfinity;

        float loss = net.TrainStep(inputs, new[] { 1, 2 });

        Assert.False(float.IsFinite(loss));
        Assert.Equal(before, net.Parameters.ToArray());
        Assert.Equal(1, adam.Steps);
        Assert.Equal(1, adam.SkippedSteps);
    }

    [Fact]
    public void AnOptimizer_BelongsToOneNetwork()
    {
        var adam = new Adam();
        var first = new DigitNetFloat(seed: 1);
        first.Optimizer = adam;
        first.Optimizer = adam; // again: nothing changes
        var error = Assert.Throws<InvalidOperationException>(() => new DigitNetFloat(seed: 2).Optimizer = adam);
        Assert.Contains("already belongs to another network", error.Message);
    }

    [Fact]
    public void OptimizerSettings_AreValidated_WithTheirNames()
    {
        Assert.Equal("learningRate", Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(learningRate: 0)).ParamName);
        Assert.Equal("beta2", Assert.Throws<ArgumentOutOfRangeException>(() => new AdamW(beta2: 1)).ParamName);
        Assert.Equal("momentum", Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(0.1, momentum: -0.5)).ParamName);
        var adam = new Adam();
        Assert.Equal("LearningRate", Assert.Throws<ArgumentOutOfRangeException>(() => adam.LearningRate = double.NaN).ParamName);
        Assert.Equal("MaxGradientNorm", Assert.Throws<ArgumentOutOfRangeException>(() => adam.MaxGradientNorm = 0).ParamName);
        Assert.Equal("Beta1", Assert.Throws<ArgumentOutOfRangeException>(() => adam.Beta1 = 1).ParamName);
    }

    [Fact]
    public void OneTrainingLoop_ServesEveryArchitecture_ThroughTheSharedInterface()
    {
        static double Train(IClassifier<float> network, int inputSize, int steps)
        {
            Assert.Equal(inputSize, network.InputSize);
            Assert.Equal(network.Description.ParameterCount, network.ParameterCount);
            network.Optimizer = new Adam(0.05);
            var random = new Random(8);
            float[] x = Enumerable.Range(0, 8 * network.InputSize).Select(_ => (float)random.NextDouble()).ToArray();
            int[] y = Enumerable.Range(0, 8).Select(i => i % network.OutputSize).ToArray();
            float first = network.TrainStep(x, y), last = first;
            for (int i = 0; i < steps; i++)
            {
                last = network.TrainStep(x, y);
            }

            return last / first;
        }

        Assert.True(Train(new DigitNetFloat(seed: 1, maxBatchSize: 8), DigitNetFloat.InputSize, 50) < 0.5);
        Assert.True(Train(new Interchange.EveryLayerFloat(seed: 1, maxBatchSize: 8), Interchange.EveryLayerFloat.InputSize, 50) < 0.9);
        INetwork<double> regressor = new Interchange.EveryLayerDouble(seed: 1);
        Assert.IsAssignableFrom<IRegressor<double>>(regressor);
        Assert.Equal(Interchange.EveryLayerDouble.OutputSize, regressor.OutputSize);
    }

    [Fact]
    public void TrainEpoch_RefusesBatchesLargerThanTheNetworkTakes_BeforeAnyStep()
    {
        var batches = new MiniBatches<float, int>(Inputs(64, 1), Labels(64, 1), DigitNetFloat.InputSize, batchSize: 32);
        var net = new DigitNetFloat(seed: 1, maxBatchSize: 16) { Optimizer = new Adam() };
        float[] before = net.Parameters.ToArray();
        var error = Assert.Throws<ArgumentException>(() => net.TrainEpoch(batches));
        Assert.Equal("batches", error.ParamName);
        Assert.Contains("construct it with maxBatchSize: 32", error.Message);
        Assert.Equal(before, net.Parameters.ToArray());
    }

    public static TheoryData<string> OptimizerSetups => new() { "sgd+step", "momentum+exponential", "adam+onecycle", "adamw+cosine" };

    private static Optimizer Setup(string name) => name switch
    {
        "sgd+step" => new Sgd(0.05) { Schedule = new StepDecay(3, 0.5), MaxGradientNorm = 1, SkipNonFiniteLoss = true },
        "momentum+exponential" => new Sgd(0.05, momentum: 0.9, weightDecay: 1e-4) { Schedule = new ExponentialDecay(0.99), MaxGradientNorm = 1, SkipNonFiniteLoss = true },
        "adam+onecycle" => new Adam(weightDecay: 1e-4) { Schedule = new OneCycle(maxLearningRate: 0.01, totalSteps: 100), MaxGradientNorm = 1, SkipNonFiniteLoss = true },
        _ => new AdamW(3e-3) { Schedule = new CosineAnnealing(totalSteps: 100, warmupSteps: 5), MaxGradientNorm = 0.5, SkipNonFiniteLoss = true },
    };

    [Theory]
    [MemberData(nameof(OptimizerSetups))]
    public void TrainingSteps_AllocateNothing_WithEveryOptimizerAndOption(string setup)
    {
        const int Count = 256, BatchSize = 32;
        float[] features = Inputs(Count, 9);
        byte[] labels = Labels(Count, 9).Select(l => (byte)l).ToArray();
        var batches = new MiniBatches<float, byte>(features, labels, DigitNetFloat.InputSize, BatchSize, seed: 1);
        var net = new DigitNetFloat(seed: 9, maxBatchSize: BatchSize);
        net.Optimizer = Setup(setup);

        foreach (var batch in batches)
        {
            net.TrainStep(batch.Features, batch.Labels); // first epoch: JIT and first-use buffers
        }

        // Steady state: two epochs allocate nothing. The runtime's tiered JIT can allocate once on this thread while it
        // promotes the methods (seen once in CI: 2,784 bytes in one round), so a round may be repeated; an allocation per
        // step would show in every round.
        long allocated = -1;
        for (int round = 0; round < 4 && allocated != 0; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int epoch = 0; epoch < 2; epoch++)
            {
                foreach (var batch in batches)
                {
                    net.TrainStep(batch.Features, batch.Labels);
                }
            }

            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }

        Assert.Equal(0, allocated);
        Assert.True(double.IsFinite(net.Optimizer!.LastGradientNorm));
    }
}
