using System;
using System.IO;
using System.Linq;
using StaticGrad.Tests.Infrastructure;
using Xunit;

namespace StaticGrad.Tests.Models;

/// <summary>Bad input to a generated model throws before anything changes, naming the argument and the shape.</summary>
public sealed class ModelContractTests
{
    [Fact]
    public void Forward_RejectsPartialExamples_AndBatchesAboveTheMaximum()
    {
        var model = new TinyResNet(maxBatchSize: 4);
        var outputs = new float[4 * TinyResNet.OutputSize];
        var error = Assert.Throws<ArgumentException>(() => model.Forward(new float[TinyResNet.InputSize + 1], outputs));
        Assert.Equal("inputs", error.ParamName);
        Assert.Contains("1×8×8", error.Message, StringComparison.Ordinal);
        Assert.Contains("65", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => model.Forward(new float[5 * TinyResNet.InputSize], new float[5 * TinyResNet.OutputSize]));
        Assert.Equal("outputs", Assert.Throws<ArgumentException>(() => model.Forward(new float[2 * TinyResNet.InputSize], new float[5])).ParamName);
    }

    [Fact]
    public void TwoInputs_MustAgreeOnTheBatch()
    {
        var model = new TwoInputNet(maxBatchSize: 4);
        var error = Assert.Throws<ArgumentException>(() => model.Forward(new float[2 * TwoInputNet.XSize], new float[3 * TwoInputNet.YSize], new float[2 * TwoInputNet.OutputSize]));
        Assert.Equal("y", error.ParamName);
    }

    [Fact]
    public void TrainStep_WithALabelOutOfRange_ChangesNothing()
    {
        var model = new TinyResNet(seed: 1, maxBatchSize: 2);
        model.UseSgd(0.1);
        float[] before = model.Parameters.ToArray(), buffers = model.Buffers.ToArray();
        Assert.Throws<ArgumentOutOfRangeException>(() => model.TrainStep(new float[2 * TinyResNet.InputSize], new[] { 0, 3 }));
        Assert.Equal(before, model.Parameters.ToArray());
        Assert.Equal(buffers, model.Buffers.ToArray());
        Assert.All(model.NamedCounters(), c => Assert.Equal(0, c.Value.Value));
        Assert.Equal("labels", Assert.Throws<ArgumentException>(() => model.TrainStep(new float[2 * TinyResNet.InputSize], new[] { 0 })).ParamName);
        Assert.Throws<InvalidOperationException>(() => new TinyResNet().TrainStep(new float[TinyResNet.InputSize], new[] { 0 }));
    }

    [Fact]
    public void Backward_BeforeAnyForward_Throws() =>
        Assert.Throws<InvalidOperationException>(() => new TinyResNet().Backward(new float[TinyResNet.OutputSize]));

    [Fact]
    public void Safetensors_RoundTripsParametersAndState_AndRefusesAnotherModelsFile()
    {
        var trained = new TinyResNet(seed: 3, maxBatchSize: 2);
        trained.UseSgd(0.1);
        trained.TrainStep(Enumerable.Range(0, 2 * TinyResNet.InputSize).Select(i => (float)Math.Sin(i)).ToArray(), new[] { 1, 2 });
        using var stream = new MemoryStream();
        trained.SaveSafetensors(stream);

        var copy = new TinyResNet(seed: 9);
        stream.Position = 0;
        copy.LoadSafetensors(stream);
        Assert.Equal(trained.Parameters.ToArray(), copy.Parameters.ToArray());
        Assert.Equal(trained.Buffers.ToArray(), copy.Buffers.ToArray());
        Assert.All(copy.NamedCounters(), c => Assert.Equal(1, c.Value.Value));

        var other = new SkipMlp(seed: 4);
        float[] untouched = other.Parameters.ToArray();
        stream.Position = 0;
        Assert.Throws<InvalidDataException>(() => other.LoadSafetensors(stream));
        Assert.Equal(untouched, other.Parameters.ToArray());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(1001)]
    public void Predict_TakesAnyNumberOfRows_AsForwardComputesThem(int rows)
    {
        var model = new TinyResNet(seed: 5, maxBatchSize: 4);
        float[] x = Enumerable.Range(0, rows * TinyResNet.InputSize).Select(i => (float)Math.Cos(i * 0.37)).ToArray();
        var outputs = new float[rows * TinyResNet.OutputSize];
        var probabilities = new float[rows * TinyResNet.OutputSize];
        model.Predict(x, outputs);
        model.PredictProbabilities(x, probabilities);

        // Each chunk against Forward on the same rows, and each row of probabilities against the softmax of the scores.
        var expected = new float[4 * TinyResNet.OutputSize];
        for (int start = 0; start < rows; start += 4)
        {
            int batch = Math.Min(4, rows - start);
            model.Forward(x.AsSpan(start * TinyResNet.InputSize, batch * TinyResNet.InputSize), expected.AsSpan(0, batch * TinyResNet.OutputSize));
            Assert.Equal(expected.AsSpan(0, batch * TinyResNet.OutputSize).ToArray(), outputs.AsSpan(start * TinyResNet.OutputSize, batch * TinyResNet.OutputSize).ToArray());
        }

        for (int r = 0; r < rows; r++)
        {
            double[] z = outputs.Skip(r * 3).Take(3).Select(v => (double)v).ToArray();
            double sum = z.Sum(v => Math.Exp(v - z.Max()));
            for (int j = 0; j < 3; j++)
            {
                Assert.True(Math.Abs((Math.Exp(z[j] - z.Max()) / sum) - probabilities[(r * 3) + j]) < 1e-6, $"row {r}, class {j}");
            }
        }

        // Warm first: a fresh process (the instruction-set child runs) may still allocate in the first calls (JIT, the
        // kernels' per-thread buffers); steady-state calls allocate nothing.
        for (int warm = 0; warm < 3; warm++)
        {
            model.Predict(x, outputs);
            model.PredictProbabilities(x, probabilities);
        }

        Allocations.AssertSteadyStateAllocatesNothing(
            () =>
            {
                model.Predict(x, outputs);
                model.PredictProbabilities(x, probabilities);
            },
            stepsPerWindow: 1);
    }

    [Fact]
    public void Predict_RejectsPartialRowsAndWrongOutputLengths()
    {
        var model = new TwoInputNet(maxBatchSize: 2);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => model.Predict(new float[7], new float[3], new float[2])).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => model.Predict(new float[10], new float[3], new float[4])).ParamName);
        Assert.Equal("outputs", Assert.Throws<ArgumentException>(() => model.Predict(new float[10], new float[6], new float[5])).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => model.EvaluateLoss(new float[10], new float[3], new float[4])).ParamName);
    }
}
