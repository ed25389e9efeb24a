using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using StaticGrad.Kernels;
using StaticGrad.Tests.Infrastructure;
using Xunit;
using static StaticGrad.Functional;

namespace StaticGrad.Tests.Models;

/// <summary>Two outputs, the second through a BatchNorm1d and Dropout: ForwardTraining must use the batch's statistics and drop.</summary>
[Model]
public partial class TwoHeadNormNet
{
    readonly Linear trunk = new(4, 8);
    readonly BatchNorm1d norm = new(8);
    readonly Dropout drop = new(0.5);
    readonly Linear left = new(8, 2), right = new(8, 3);

    public (Tensor, Tensor) Forward([Shape(4)] Tensor x)
    {
        var h = Relu(norm.Forward(trunk.Forward(x)));
        return (left.Forward(h), right.Forward(drop.Forward(h)));
    }
}

/// <summary>Inputs and outputs named with C# keywords: the generated spans are <c>@in</c>, <c>@out</c>, <c>@base</c>, <c>@class</c>.</summary>
[Model]
public partial class KeywordNamesNet
{
    readonly Linear a = new(3, 2), b = new(2, 2);

    public (Tensor Base, Tensor Class) Forward([Shape(3)] Tensor @in, [Shape(2)] Tensor @out) => (a.Forward(@in), b.Forward(@out) * a.Forward(@in));
}

/// <summary>
/// A <c>[Model]</c> whose Forward returns a tuple of tensors: one span per output in Forward, ForwardTraining, Predict and
/// Backward, named after the tuple's elements; trained with a loss the caller computes. TwoHeadNet retraces PyTorch 1.13
/// (Golden/make_two_output_golden.py: 20 SGD steps on cross-entropy of the scores plus the mean squared error of a value
/// read from the scores, so the scores' gradient is the sum of what both losses give).
/// </summary>
public sealed class TwoOutputModelTests
{
    private static string Golden(string file) => Path.Combine(AppContext.BaseDirectory, "Models", "Golden", file);

    private static float[] Floats(JsonElement array) => array.EnumerateArray().Select(e => e.GetSingle()).ToArray();

    private static float[] Random(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
    }

    [Fact]
    public void TheGeneratedMembers_TakeOneSpanPerOutput_NamedAfterTheTuple()
    {
        Assert.Equal(3, TwoHeadNet.ScoresSize);
        Assert.Equal(1, TwoHeadNet.ValueSize);
        Assert.Equal(2, TwoHeadNormNet.Output1Size);
        Assert.Equal(3, TwoHeadNormNet.Output2Size);
        Assert.Null(typeof(TwoHeadNet).GetField("OutputSize"));
        Assert.Equal(new[] { "inputs", "scores", "value" }, typeof(TwoHeadNet).GetMethod("Forward", new[] { typeof(ReadOnlySpan<float>), typeof(Span<float>), typeof(Span<float>) })!.GetParameters().Select(p => p.Name));
        Assert.Equal(new[] { "scoresGradients", "valueGradients" }, typeof(TwoHeadNet).GetMethod("Backward", new[] { typeof(ReadOnlySpan<float>), typeof(ReadOnlySpan<float>) })!.GetParameters().Select(p => p.Name));
        Assert.EndsWith("outputs scores %3, value %5", TwoHeadNet.Architecture, StringComparison.Ordinal);
        Assert.False(typeof(IClassifier<float>).IsAssignableFrom(typeof(TwoHeadNet)));
    }

    [Fact]
    public void KeywordNames_AreEscaped_InTheGeneratedSpans()
    {
        var model = new KeywordNamesNet(seed: 1, maxBatchSize: 2);
        float[] @base = new float[2 * KeywordNamesNet.BaseSize], @class = new float[2 * KeywordNamesNet.ClassSize];
        model.Forward(@in: Random(2 * KeywordNamesNet.InSize, 1), @out: Random(2 * KeywordNamesNet.OutSize, 2), @base: @base, @class: @class);
        Assert.Contains(@base, v => v != 0);
        var error = Assert.Throws<ArgumentException>(() => model.Forward(new float[5], new float[4], @base, @class));
        Assert.Equal("in", error.ParamName);
        Assert.Equal(new[] { "in", "out", "base", "class" }, typeof(KeywordNamesNet).GetMethod("Forward", new[] { typeof(ReadOnlySpan<float>), typeof(ReadOnlySpan<float>), typeof(Span<float>), typeof(Span<float>) })!.GetParameters().Select(p => p.Name));
    }

    [Fact]
    public void TwoHeadNet_RetracesPyTorch_WithTheSumOfTwoLosses()
    {
        JsonElement run = JsonDocument.Parse(File.ReadAllText(Golden("TwoHeadNet.json"))).RootElement;
        int batch = run.GetProperty("batch").GetInt32();
        var model = new TwoHeadNet(seed: 0, maxBatchSize: batch);
        model.LoadSafetensors(Golden("TwoHeadNet.initial.safetensors"));
        model.UseSgd(run.GetProperty("lr").GetDouble(), run.GetProperty("momentum").GetDouble());
        float[] scores = new float[batch * TwoHeadNet.ScoresSize], value = new float[batch * TwoHeadNet.ValueSize];
        float[] scoresGradients = new float[scores.Length], valueGradients = new float[value.Length];
        for (int step = 0; step < run.GetProperty("steps").GetInt32(); step++)
        {
            int[] labels = run.GetProperty("labels")[step].EnumerateArray().Select(e => e.GetInt32()).ToArray();
            float[] targets = Floats(run.GetProperty("targets")[step]);
            model.ForwardTraining(Floats(run.GetProperty("inputs")[step]), scores, value);
            double loss = Losses.SoftmaxCrossEntropy<float>(scores, labels, batch, TwoHeadNet.ScoresSize, scoresGradients)
                + Losses.MeanSquaredError<float>(value, targets, batch, TwoHeadNet.ValueSize, valueGradients);
            ModelGoldenTests.AssertRelative(run.GetProperty("losses")[step].GetSingle(), loss, 1e-5, $"loss of step {step}");
            model.ZeroGradients();
            model.Backward(scoresGradients, valueGradients);
            model.Step();
        }

        var expected = new TwoHeadNet();
        expected.LoadSafetensors(Golden("TwoHeadNet.final.safetensors"));
        ModelGoldenTests.AssertClose(expected.Parameters, model.Parameters, 1e-5, "final parameters");

        float[] evalInputs = Floats(run.GetProperty("eval_inputs"));
        model.Predict(evalInputs, scores, value);
        ModelGoldenTests.AssertClose(Floats(run.GetProperty("eval_scores")), scores, 1e-5, "eval scores");
        ModelGoldenTests.AssertClose(Floats(run.GetProperty("eval_values")), value, 1e-5, "eval values");
    }

    [Fact]
    public void Backward_MatchesCentralDifferences_OfALossOnBothOutputs_AndTheInputGradientToo()
    {
        const int Batch = 3;
        var model = new TwoHeadNet(seed: 5, maxBatchSize: Batch);
        float[] x = Random(Batch * TwoHeadNet.InputSize, 1), a = Random(Batch * TwoHeadNet.ScoresSize, 2), c = Random(Batch * TwoHeadNet.ValueSize, 3);
        float[] scores = new float[a.Length], value = new float[c.Length];
        double Loss()
        {
            model.Forward(x, scores, value);
            return scores.Select((s, i) => (double)s * a[i]).Sum() + value.Select((v, i) => (double)v * c[i]).Sum();
        }

        Loss();
        model.ZeroGradients();
        var inputGradients = new float[x.Length];
        model.Backward(a, c, inputGradients);
        float[] analytic = model.Gradients.ToArray();
        const float H = 1e-3f;
        for (int p = 0; p < TwoHeadNet.ParameterCount; p++)
        {
            float original = model.Parameters[p];
            model.Parameters[p] = original + H;
            double plus = Loss();
            model.Parameters[p] = original - H;
            double minus = Loss();
            model.Parameters[p] = original;
            AssertAgrees((plus - minus) / (2 * H), analytic[p], $"∂L/∂{TwoHeadNet.Description.Tensors.Last(t => t.Offset <= p).Name}");
        }

        for (int i = 0; i < x.Length; i++)
        {
            float original = x[i];
            x[i] = original + H;
            double plus = Loss();
            x[i] = original - H;
            double minus = Loss();
            x[i] = original;
            AssertAgrees((plus - minus) / (2 * H), inputGradients[i], $"∂L/∂x[{i}]");
        }

        // The overload without the input gradient adds the same parameter gradients.
        Loss();
        model.ZeroGradients();
        model.Backward(a, c);
        Assert.Equal(analytic, model.Gradients.ToArray());

        static void AssertAgrees(double numeric, double backward, string what)
        {
            double error = Math.Abs(numeric - backward) / Math.Max(Math.Max(Math.Abs(numeric), Math.Abs(backward)), 1e-2);
            Assert.True(error < 2e-2, $"{what}: backward {backward:R}, central difference {numeric:R} (relative error {error:E2})");
        }
    }

    [Fact]
    public void GeneratedForward_MatchesTheEagerTuple_InBothModes()
    {
        const int Batch = 6;
        var model = new TwoHeadNormNet(seed: 2, maxBatchSize: Batch);
        var eager = new TwoHeadNormNet(seed: 2, maxBatchSize: Batch);
        float[] x = Random(Batch * TwoHeadNormNet.InputSize, 4);
        float[] left = new float[Batch * TwoHeadNormNet.Output1Size], right = new float[Batch * TwoHeadNormNet.Output2Size];

        // Training mode: the batch's statistics, and both update their running ones alike (Dropout's masks differ between
        // the two run times, so only the first output, before the Dropout, is compared).
        model.ForwardTraining(x, left, right);
        eager.Train();
        (Tensor eagerLeft, Tensor eagerRight) = eager.Forward(Tensor.FromSpan(x, Batch, 4));
        ModelGoldenTests.AssertClose(eagerLeft.ToArray(), left, 1e-5, "training-mode output1");
        Assert.Equal(new[] { 3 }, eagerRight.Shape.ToArray());
        Assert.Contains(model.Buffers.ToArray(), v => v != 0 && v != 1); // the running statistics moved: BatchNorm ran in training mode
        ModelGoldenTests.AssertClose(eager.Buffers.ToArray(), model.Buffers.ToArray(), 1e-6, "running statistics");

        // Evaluation mode: the running statistics, no dropout; both outputs agree.
        model.Forward(x, left, right);
        eager.Eval();
        (eagerLeft, eagerRight) = eager.Forward(Tensor.FromSpan(x, Batch, 4));
        ModelGoldenTests.AssertClose(eagerLeft.ToArray(), left, 1e-5, "output1");
        ModelGoldenTests.AssertClose(eagerRight.ToArray(), right, 1e-5, "output2");
    }

    [Fact]
    public void Predict_RunsAnyNumberOfExamplesInChunks_AndChecksEverySpan()
    {
        var model = new TwoHeadNet(seed: 1, maxBatchSize: 4);
        float[] x = Random(10 * TwoHeadNet.InputSize, 6);
        float[] scores = new float[10 * TwoHeadNet.ScoresSize], value = new float[10 * TwoHeadNet.ValueSize];
        model.Predict(x, scores, value);
        float[] oneScores = new float[TwoHeadNet.ScoresSize], oneValue = new float[1];
        for (int example = 0; example < 10; example++)
        {
            model.Forward(x.AsSpan(example * TwoHeadNet.InputSize, TwoHeadNet.InputSize), oneScores, oneValue);
            Assert.Equal(oneScores, scores.AsSpan(example * 3, 3).ToArray());
            Assert.Equal(oneValue[0], value[example]);
        }

        var tooShort = Assert.Throws<ArgumentException>(() => model.Predict(x, scores, new float[9]));
        Assert.Equal("value", tooShort.ParamName);
        Assert.Contains("must have length 10", tooShort.Message, StringComparison.Ordinal);
        model.Forward(x.AsSpan(0, 4 * TwoHeadNet.InputSize), new float[4 * 3], new float[4]);
        var gradient = Assert.Throws<ArgumentException>(() => model.Backward(new float[4 * 3], new float[3]));
        Assert.Equal("valueGradients", gradient.ParamName);
    }

    [Fact]
    public void ForwardTrainingAndBackward_AllocateNothing()
    {
        var model = new TwoHeadNormNet(seed: 3, maxBatchSize: 8);
        float[] x = Random(8 * 4, 7), left = new float[16], right = new float[24], dLeft = Random(16, 8), dRight = Random(24, 9);
        model.UseAdam();
        for (int warm = 0; warm < 3; warm++)
        {
            model.ForwardTraining(x, left, right);
            model.ZeroGradients();
            model.Backward(dLeft, dRight);
            model.Step();
        }

        Allocations.AssertSteadyStateAllocatesNothing(() =>
        {
            model.ForwardTraining(x, left, right);
            model.ZeroGradients();
            model.Backward(dLeft, dRight);
            model.Step();
        }, stepsPerWindow: 4);
    }

    [Fact]
    public void ExportOnnx_HasBothOutputs_AndRunsInOnnxRuntime()
    {
        var model = new TwoHeadNet(seed: 4, maxBatchSize: 3);
        float[] x = Random(3 * TwoHeadNet.InputSize, 10), scores = new float[9], value = new float[3];
        model.Predict(x, scores, value);
        var stream = new MemoryStream();
        model.ExportOnnx(stream);

        using var session = new InferenceSession(stream.ToArray());
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(x, new[] { 3, TwoHeadNet.InputSize })) });
        Assert.Equal(new[] { "scores", "value" }, results.Select(r => r.Name));
        Assert.Equal(new[] { 3, 3 }, results.First().AsTensor<float>().Dimensions.ToArray());
        ModelGoldenTests.AssertClose(scores, results.First().AsTensor<float>().ToArray(), 1e-5, "ONNX scores");
        ModelGoldenTests.AssertClose(value, results.Last().AsTensor<float>().ToArray(), 1e-5, "ONNX value");
    }
}
