using System;
using System.Linq;
using StaticGrad.Tests.Infrastructure;
using Xunit;

namespace StaticGrad.Tests.Models;

/// <summary>
/// <c>Threads</c> on a <c>[Model]</c>: the same model on two threads against one. The batches are large enough that every
/// kernel with a team overload really splits (products of at least 2²⁰ multiply-adds, 16,384 GELU elements, 64 LayerNorm
/// rows, two attention items, a convolution of at least its threshold): a share at a wrong offset changes the outputs.
/// </summary>
public sealed class ModelThreadsTests
{
    private const int GptBatch = 1024; // 8,192 positions: Linear 16→16 is 2.1·10⁶ multiply-adds, GELU 524,288 elements

    [Fact]
    public void TinyGpt_OnTwoThreads_ForwardIsBitwiseTheSame_AndTrainingAgrees()
    {
        var random = new Random(11);
        int[] ids = Enumerable.Range(0, GptBatch * 8).Select(_ => random.Next(11)).ToArray();
        int[] labels = Enumerable.Range(0, GptBatch * 8).Select(_ => random.Next(11)).ToArray();
        var one = new TinyGpt(seed: 3, maxBatchSize: GptBatch);
        var two = new TinyGpt(seed: 3, maxBatchSize: GptBatch) { Threads = 2 };
        Assert.Equal(2, two.Threads);

        // Forward: every kernel gives each value from the same operations in the same order on any number of threads.
        float[] expected = new float[GptBatch * TinyGpt.OutputSize], actual = new float[expected.Length];
        one.Forward(ids, expected);
        two.Forward(ids, actual);
        Assert.Equal(expected, actual);

        // Backward: the input-side gradients are the same; LayerNorm's γ/β gradients are summed per share, so they agree to rounding.
        one.ZeroGradients();
        two.ZeroGradients();
        one.Backward(expected);
        two.Backward(actual);
        AssertClose(one.Gradients.ToArray(), two.Gradients.ToArray(), 1e-5);

        one.UseAdamW(1e-3);
        two.UseAdamW(1e-3);
        for (int step = 0; step < 3; step++)
        {
            float a = one.TrainStep(ids, labels), b = two.TrainStep(ids, labels);
            Assert.True(Math.Abs(a - b) <= 1e-5 * Math.Abs(a), $"step {step + 1}: loss {a} on one thread, {b} on two");
        }

        AssertClose(one.Parameters.ToArray(), two.Parameters.ToArray(), 1e-5);
    }

    [Fact]
    public void TinyResNet_OnTwoThreads_ForwardIsBitwiseTheSame_AndTrainsAsOnOne()
    {
        const int Batch = 512; // the 3×3 convolutions of 4 channels on 8×8 and 4×4 planes pass their split threshold
        var random = new Random(12);
        float[] x = Enumerable.Range(0, Batch * TinyResNet.InputSize).Select(_ => (float)random.NextDouble()).ToArray();
        int[] labels = Enumerable.Range(0, Batch).Select(_ => random.Next(3)).ToArray();
        var one = new TinyResNet(seed: 4, maxBatchSize: Batch);
        var two = new TinyResNet(seed: 4, maxBatchSize: Batch) { Threads = 2 };
        float[] expected = new float[Batch * TinyResNet.OutputSize], actual = new float[expected.Length];
        one.Forward(x, expected);
        two.Forward(x, actual);
        Assert.Equal(expected, actual); // convolutions split by examples: each output from the same operations

        one.UseSgd(0.05, momentum: 0.9);
        two.UseSgd(0.05, momentum: 0.9);
        for (int step = 0; step < 3; step++)
        {
            float a = one.TrainStep(x, labels), b = two.TrainStep(x, labels);
            Assert.True(Math.Abs(a - b) <= 1e-5 * Math.Abs(a), $"step {step + 1}: loss {a} on one thread, {b} on two");
        }

        AssertClose(one.Parameters.ToArray(), two.Parameters.ToArray(), 1e-5);
        AssertClose(one.Buffers.ToArray(), two.Buffers.ToArray(), 1e-5); // BatchNorm's running statistics
    }

    [Fact]
    public void TrainStep_OnTwoThreads_AllocatesNothingOnTheCallingThread()
    {
        var random = new Random(13);
        int[] ids = Enumerable.Range(0, GptBatch * 8).Select(_ => random.Next(11)).ToArray();
        int[] labels = Enumerable.Range(0, GptBatch * 8).Select(_ => random.Next(11)).ToArray();
        var model = new TinyGpt(seed: 5, maxBatchSize: GptBatch) { Threads = 2 };
        model.UseAdamW(1e-3);
        for (int warm = 0; warm < 3; warm++)
        {
            model.TrainStep(ids, labels);
        }

        Allocations.AssertSteadyStateAllocatesNothing(() => model.TrainStep(ids, labels), stepsPerWindow: 1);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65)]
    public void Threads_OutsideOneTo64_IsRejected(int threads)
    {
        var model = new TinyGpt(seed: 1, maxBatchSize: 2);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => model.Threads = threads);
        Assert.Equal("Threads", error.ParamName);
        Assert.Contains("between 1 and 64", error.Message);
        Assert.Equal(1, model.Threads);
    }

    [Fact]
    public void Threads_BackToOne_EndsTheTeam_AndStillTrains()
    {
        var model = new TinyGpt(seed: 1, maxBatchSize: 4) { Threads = 3 };
        model.UseSgd(0.1);
        int[] ids = new int[4 * 8], labels = new int[4 * 8];
        float first = model.TrainStep(ids, labels);
        model.Threads = 1;
        Assert.Equal(1, model.Threads);
        float second = model.TrainStep(ids, labels);
        Assert.True(second < first, $"{first} → {second}");
    }

    private static void AssertClose(float[] expected, float[] actual, double relative)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Max(v => Math.Abs((double)v));
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= relative * scale, $"[{i}]: {expected[i]} on one thread, {actual[i]} on two (scale {scale})");
        }
    }
}
