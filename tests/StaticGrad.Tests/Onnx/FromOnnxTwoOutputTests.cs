using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.CodeAnalysis;
using StaticGrad.Kernels;
using StaticGrad.Tests.Models;
using Xunit;

namespace StaticGrad.Tests.Onnx;

/// <summary>
/// A PyTorch module that returns two tensors, exported to ONNX and imported with [FromOnnx]: a model of two outputs named
/// after the ONNX values, which predicts as PyTorch does and retraces 5 SGD steps on the sum of a cross-entropy and a mean
/// squared error (Golden/make_two_output_onnx.py), trained through ForwardTraining, Backward of both gradients and Step.
/// </summary>
[Collection(nameof(OnnxReaderCacheTests))] // the generator reads through the process-wide cache, whose counters those tests check
public sealed class FromOnnxTwoOutputTests
{
    private static readonly JsonElement Golden =
        JsonDocument.Parse(File.ReadAllText(FromOnnxHarness.GoldenPath("twohead.opset17.golden.json"))).RootElement;

    private static float[] Floats(string name) => Golden.GetProperty(name).EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();

    [Fact]
    public void TheOutputs_AreNamedAfterTheOnnxValues()
    {
        Assert.Equal(3, ImportedTwoHead.ScoresSize);
        Assert.Equal(1, ImportedTwoHead.ValueSize);
        Assert.Equal(new[] { "inputs", "scores", "value" }, typeof(ImportedTwoHead).GetMethod("Forward", new[] { typeof(ReadOnlySpan<float>), typeof(Span<float>), typeof(Span<float>) })!.GetParameters().Select(p => p.Name));
        Assert.Equal(new[] { "scores", "value" }, ImportedTwoHead.OnnxGraph.Outputs.Select(o => o.Name));
    }

    [Fact]
    public void Predict_GivesPyTorchsOutputs_AndTrainingRetracesItsLosses()
    {
        int batch = Golden.GetProperty("batch").GetInt32();
        var model = new ImportedTwoHead(maxBatchSize: batch);
        float[] x = Floats("input"), targets = Floats("targets");
        int[] labels = Golden.GetProperty("labels").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        float[] scores = new float[batch * 3], value = new float[batch], scoresGradients = new float[scores.Length], valueGradients = new float[value.Length];
        model.Predict(x, scores, value);
        ModelGoldenTests.AssertClose(Floats("eval_scores"), scores, 1e-5, "scores");
        ModelGoldenTests.AssertClose(Floats("eval_values"), value, 1e-5, "value");

        model.UseSgd(Golden.GetProperty("learning_rate").GetDouble());
        float[] losses = Floats("losses");
        for (int step = 0; step < losses.Length; step++)
        {
            model.ForwardTraining(x, scores, value);
            double loss = Losses.SoftmaxCrossEntropy<float>(scores, labels, batch, 3, scoresGradients)
                + Losses.MeanSquaredError<float>(value, targets, batch, 1, valueGradients);
            ModelGoldenTests.AssertRelative(losses[step], loss, 1e-5, $"loss of step {step}");
            model.ZeroGradients();
            model.Backward(scoresGradients, valueGradients);
            model.Step();
        }
    }

    [Fact]
    public void ALossOnTwoOutputs_IsSgr0024_OnThePath()
    {
        const string source = """
            using StaticGrad;

            [FromOnnx("models/m.onnx", Loss = Loss.MeanSquaredError)]
            public partial class Imported;
            """;
        AdditionalText[] files = { FromOnnxHarness.Copy("models/m.onnx", File.ReadAllBytes(FromOnnxHarness.GoldenPath("twohead.opset17.onnx"))) };
        IReadOnlyList<Diagnostic> diagnostics = FromOnnxHarness.Analyze(source, files);
        Diagnostic d = Assert.Single(diagnostics);
        Assert.Equal("SGR0024", d.Id);
        Assert.Equal("\"models/m.onnx\"", d.Location.SourceTree!.ToString().Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length));
        Assert.Contains("Loss.MeanSquaredError needs one output, but the graph has 2 ('scores', 'value')", d.GetMessage(), StringComparison.Ordinal);

        // Output = keeps one of them, and the loss applies to it.
        const string one = """
            using StaticGrad;

            [FromOnnx("models/m.onnx", Output = "value", Loss = Loss.MeanSquaredError)]
            public partial class Imported;
            """;
        Assert.Empty(FromOnnxHarness.Analyze(one, files));
    }
}
