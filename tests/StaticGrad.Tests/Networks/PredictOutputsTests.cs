using System;
using System.Linq;
using StaticGrad;
using StaticGrad.Tests.Infrastructure;
using Xunit;

namespace StaticGrad.Tests.Networks;

/// <summary>
/// <c>Predict(inputs, outputs)</c> and <c>PredictProbabilities</c>: the outputs of any number of rows, in chunks of
/// MaxBatchSize, checked against a plain-loop reference computed from the parameters (not through the generated code).
/// </summary>
public sealed class PredictOutputsTests
{
    private const int MaxBatch = 16;

    public static TheoryData<int> RowCounts => new() { 0, 1, MaxBatch - 1, MaxBatch, MaxBatch + 1, 3 * MaxBatch + 5, 10_000 };

    [Theory]
    [MemberData(nameof(RowCounts))]
    public void Predict_AnyNumberOfRows_EqualsAPlainLoopReference(int rows)
    {
        var net = new DigitNetFloat(seed: 3, maxBatchSize: MaxBatch);
        float[] inputs = RandomFloats(new Random(rows), rows * DigitNetFloat.InputSize);
        float[] outputs = Enumerable.Repeat(float.NaN, rows * DigitNetFloat.OutputSize).ToArray();

        net.Predict(inputs, outputs);

        double[] expected = ReferenceMlp(net, inputs, rows);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - outputs[i]) <= 1e-5 + (1e-5 * Math.Abs(expected[i])), $"rows {rows}, value {i}: expected {expected[i]:R}, got {outputs[i]:R}");
        }
    }

    [Theory]
    [MemberData(nameof(RowCounts))]
    public void PredictProbabilities_AnyNumberOfRows_IsTheSoftmaxOfTheReference(int rows)
    {
        var net = new DigitNetFloat(seed: 4, maxBatchSize: MaxBatch);
        float[] inputs = RandomFloats(new Random(rows + 1), rows * DigitNetFloat.InputSize);
        float[] probabilities = new float[rows * DigitNetFloat.OutputSize];

        net.PredictProbabilities(inputs, probabilities);

        double[] scores = ReferenceMlp(net, inputs, rows);
        for (int r = 0; r < rows; r++)
        {
            double[] z = scores.AsSpan(r * 10, 10).ToArray();
            double max = z.Max();
            double sum = z.Sum(v => Math.Exp(v - max));
            for (int j = 0; j < 10; j++)
            {
                double p = Math.Exp(z[j] - max) / sum;
                Assert.True(Math.Abs(p - probabilities[(r * 10) + j]) <= 1e-6, $"row {r}, class {j}: expected {p:R}, got {probabilities[(r * 10) + j]:R}");
            }

            Assert.Equal(1.0, probabilities.AsSpan(r * 10, 10).ToArray().Sum(v => (double)v), 5);
        }
    }

    [Fact]
    public void PredictProbabilities_HugeScores_DoNotOverflow()
    {
        var net = new DigitNetFloat(seed: 5, maxBatchSize: MaxBatch);
        net.Layer2Bias[7] = 1e4f; // exp(1e4) overflows float; softmax(z − max z) does not
        float[] inputs = RandomFloats(new Random(5), 3 * DigitNetFloat.InputSize);
        float[] probabilities = new float[3 * DigitNetFloat.OutputSize];

        net.PredictProbabilities(inputs, probabilities);

        for (int r = 0; r < 3; r++)
        {
            Assert.Equal(1f, probabilities[(r * 10) + 7]);
            Assert.All(probabilities.AsSpan(r * 10, 10).ToArray(), p => Assert.True(float.IsFinite(p)));
        }
    }

    [Fact]
    public void Predict_ImageNetworkAndRegression_MatchForwardOnEachChunk()
    {
        // A CNN (Conv2d, MaxPool2d, Flatten) and an MSE network, double: Predict over 2·MaxBatch + 3 rows equals Forward
        // one row at a time (a different batch size from Predict's chunks).
        AssertMatchesForwardRowByRow(new TinyCnn(seed: 6, maxBatchSize: 4), TinyCnn.InputSize, TinyCnn.OutputSize, 11);
        AssertMatchesForwardRowByRow(new TanhRegression(seed: 6, maxBatchSize: 4), TanhRegression.InputSize, TanhRegression.OutputSize, 11);
        AssertMatchesForwardRowByRow(new ConvOnly(seed: 6, maxBatchSize: 4), ConvOnly.InputSize, ConvOnly.OutputSize, 9);
    }

    [Fact]
    public void Predict_ThroughTheInterface_EqualsTheClassMember()
    {
        var net = new DigitNetFloat(seed: 7, maxBatchSize: MaxBatch);
        float[] inputs = RandomFloats(new Random(7), 40 * DigitNetFloat.InputSize);
        float[] direct = new float[40 * 10], viaInterface = new float[40 * 10];
        net.Predict(inputs, direct);
        ((INetwork<float>)net).Predict(inputs, viaInterface);
        Assert.Equal(direct, viaInterface);
    }

    [Fact]
    public void Predict_ZeroRows_WritesNothing_AndNeedsEmptyOutputs()
    {
        var net = new DigitNetFloat(seed: 8, maxBatchSize: MaxBatch);
        net.Predict(ReadOnlySpan<float>.Empty, Span<float>.Empty);
        net.PredictProbabilities(ReadOnlySpan<float>.Empty, Span<float>.Empty);
        var error = Assert.Throws<ArgumentException>(() => net.Predict(ReadOnlySpan<float>.Empty, new float[10]));
        Assert.Equal("outputs", error.ParamName);
        Assert.Contains("[0×10] = 0 elements for 0 examples", error.Message);
    }

    [Fact]
    public void Predict_WrongLengths_NameTheArgument_TheExpectedAndTheActualLength_AndWriteNothing()
    {
        var net = new DigitNetFloat(seed: 9, maxBatchSize: MaxBatch);
        float[] outputs = Enumerable.Repeat(-7f, 30).ToArray();

        var partialRow = Assert.Throws<ArgumentException>(() => net.Predict(new float[(3 * 64) + 5], outputs));
        Assert.Equal("inputs", partialRow.ParamName);
        Assert.Contains("whole examples of 64 features", partialRow.Message);
        Assert.Contains("has length 197", partialRow.Message);

        var shortOutputs = Assert.Throws<ArgumentException>(() => net.Predict(new float[4 * 64], outputs));
        Assert.Equal("outputs", shortOutputs.ParamName);
        Assert.Contains("[4×10] = 40 elements for 4 examples", shortOutputs.Message);
        Assert.Contains("has length 30", shortOutputs.Message);

        var probabilities = Assert.Throws<ArgumentException>(() => net.PredictProbabilities(new float[2 * 64], outputs));
        Assert.Equal("probabilities", probabilities.ParamName);
        Assert.Contains("[2×10] = 20 elements for 2 examples", probabilities.Message);
        Assert.Contains("has length 30", probabilities.Message);

        Assert.All(outputs, v => Assert.Equal(-7f, v));
    }

    [Fact]
    public void Predict_ReplacesTheStoredActivations_SoBackwardNeedsANewForward()
    {
        var net = new DigitNetFloat(seed: 10, maxBatchSize: MaxBatch);
        float[] inputs = RandomFloats(new Random(10), 2 * 64);
        net.Forward(inputs, new float[20]);
        net.Predict(inputs, new float[20]);
        Assert.Throws<InvalidOperationException>(() => net.Backward(new float[20]));
    }

    [Fact]
    public void OnlySoftmaxNetworks_HaveProbabilities()
    {
        Assert.NotNull(typeof(DigitNetDouble).GetMethod("PredictProbabilities"));
        Assert.Null(typeof(DigitSvmDouble).GetMethod("PredictProbabilities"));
        Assert.Null(typeof(TanhRegression).GetMethod("PredictProbabilities"));
        Assert.Null(typeof(LinearOnly).GetMethod("PredictProbabilities"));
        Assert.NotNull(typeof(LinearOnly).GetMethod("Predict", new[] { typeof(ReadOnlySpan<double>), typeof(Span<double>) }));
    }

    [Fact]
    public void Predict_AndPredictProbabilities_AllocateNothing()
    {
        var net = new DigitNetFloat(seed: 11, maxBatchSize: MaxBatch);
        var cnn = new TinyCnn(seed: 11, maxBatchSize: 4);
        float[] inputs = RandomFloats(new Random(11), 10_000 * 64);
        float[] outputs = new float[10_000 * 10];
        double[] images = new double[37 * TinyCnn.InputSize];
        double[] scores = new double[37 * TinyCnn.OutputSize];
        net.Predict(inputs, outputs); // the JIT's first call allocates
        net.PredictProbabilities(inputs, outputs);
        cnn.Predict(images, scores);
        cnn.PredictProbabilities(images, scores);

        Allocations.AssertSteadyStateAllocatesNothing(() =>
        {
            net.Predict(inputs, outputs);
            net.PredictProbabilities(inputs, outputs);
            cnn.Predict(images, scores);
            cnn.PredictProbabilities(images, scores);
        }, stepsPerWindow: 1);
    }

    private static void AssertMatchesForwardRowByRow<TNet>(TNet net, int inputSize, int outputSize, int rows)
        where TNet : StaticGrad.INetwork<double>
    {
        double[] inputs = Enumerable.Range(0, rows * inputSize).Select(i => Math.Sin(i * 0.37)).ToArray();
        double[] outputs = new double[rows * outputSize];
        net.Predict(inputs, outputs);
        double[] one = new double[outputSize];
        for (int r = 0; r < rows; r++)
        {
            net.Forward(inputs.AsSpan(r * inputSize, inputSize), one);
            for (int j = 0; j < outputSize; j++)
            {
                Assert.Equal(one[j], outputs[(r * outputSize) + j], 12);
            }
        }
    }

    // 64 → 32 (ReLU) → 10 in double, from the parameters: scores = W2·relu(W0·x + b0) + b2.
    private static double[] ReferenceMlp(DigitNetFloat net, float[] inputs, int rows)
    {
        float[] w0 = net.Layer0Weight.ToArray(), b0 = net.Layer0Bias.ToArray(), w2 = net.Layer2Weight.ToArray(), b2 = net.Layer2Bias.ToArray();
        double[] scores = new double[rows * 10];
        double[] hidden = new double[32];
        for (int r = 0; r < rows; r++)
        {
            for (int h = 0; h < 32; h++)
            {
                double sum = b0[h];
                for (int i = 0; i < 64; i++)
                {
                    sum += (double)w0[(h * 64) + i] * inputs[(r * 64) + i];
                }

                hidden[h] = Math.Max(0, sum);
            }

            for (int o = 0; o < 10; o++)
            {
                double sum = b2[o];
                for (int h = 0; h < 32; h++)
                {
                    sum += w2[(o * 32) + h] * hidden[h];
                }

                scores[(r * 10) + o] = sum;
            }
        }

        return scores;
    }

    private static float[] RandomFloats(Random random, int count) => Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 4) - 2)).ToArray();
}
