using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using StaticGrad.Tests.Infrastructure;
using Xunit;

namespace StaticGrad.Tests.Models;

/// <summary>
/// Sequence models written as C#: token inputs, Embedding, a Parameter field, MatMul, Softmax and scaled dot-product
/// attention. The small GPT retraces PyTorch 1.13 (Golden/make_sequence_golden.py) under AdamW; every sequence op's
/// backward pass agrees with central differences; the eager source computes what the generated code computes.
/// </summary>
public sealed class SequenceModelTests
{
    private static string Golden(string file) => Path.Combine(AppContext.BaseDirectory, "Models", "Golden", file);

    private static JsonElement Run => JsonDocument.Parse(File.ReadAllText(Golden("TinyGpt.json"))).RootElement;

    private static int[] Ints(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt32()).ToArray();

    [Fact]
    public void TinyGpt_RetracesPyTorch_UnderAdamW()
    {
        JsonElement run = Run;
        int batch = run.GetProperty("batch").GetInt32();
        var model = new TinyGpt(maxBatchSize: batch);
        model.LoadSafetensors(Golden("TinyGpt.initial.safetensors"));
        model.UseAdamW(run.GetProperty("lr").GetDouble(), run.GetProperty("beta1").GetDouble(), run.GetProperty("beta2").GetDouble(),
            run.GetProperty("eps").GetDouble(), run.GetProperty("weight_decay").GetDouble());
        int steps = run.GetProperty("steps").GetInt32();
        for (int step = 0; step < steps; step++)
        {
            float loss = model.TrainStep(Ints(run.GetProperty("ids")[step]), Ints(run.GetProperty("labels")[step]));
            ModelGoldenTests.AssertRelative(run.GetProperty("losses")[step].GetSingle(), loss, 1e-4, $"loss at step {step}");
        }

        var expected = new TinyGpt(maxBatchSize: batch);
        expected.LoadSafetensors(Golden("TinyGpt.final.safetensors"));
        ModelGoldenTests.AssertClose(expected.Parameters.ToArray(), model.Parameters.ToArray(), 1e-4, "parameters");

        var outputs = new float[batch * TinyGpt.OutputSize];
        model.Forward(Ints(run.GetProperty("eval_ids")), outputs);
        float[] reference = run.GetProperty("eval_outputs").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        ModelGoldenTests.AssertClose(reference, outputs, 1e-4, "eval logits");
    }

    [Fact]
    public void TinyGpt_HasPyTorchsStateDictNamesAndShapes()
    {
        var names = TinyGpt.Description.Tensors.Select(t => t.Name).ToArray();
        Assert.Equal("tokens.weight", names[0]);
        Assert.Equal("position", names[1]);
        Assert.Contains("blocks.1.query.weight", names);
        Assert.DoesNotContain("blocks.0.key.bias", names);
        Assert.Equal(new[] { 11, 16 }, TinyGpt.Description.Tensors.Single(t => t.Name == "tokens.weight").Shape.ToArray());
        Assert.Equal(new[] { 8, 16 }, TinyGpt.Description.Tensors.Single(t => t.Name == "position").Shape.ToArray());
        Assert.Equal(8 * 11, TinyGpt.OutputSize);
        Assert.Equal(8, TinyGpt.InputSize);

        // Weight decay as nanoGPT applies it: tensors of two or more dimensions.
        Assert.True(TinyGpt.Description.Tensors.Single(t => t.Name == "position").IsWeight);
        Assert.False(TinyGpt.Description.Tensors.Single(t => t.Name == "blocks.0.ln1.weight").IsWeight);
        Assert.False(TinyGpt.Description.Tensors.Single(t => t.Name == "blocks.0.proj.bias").IsWeight);
    }

    [Fact]
    public void EverySequenceOp_BackwardMatchesCentralDifferences()
    {
        const int Batch = 3;
        var random = new Random(11);
        var model = new EverySequenceOpNet(seed: 3, maxBatchSize: Batch);
        // The Parameter fields start at zero, as PyTorch's nn.Parameter(torch.zeros(...)); give them values.
        for (int p = 0; p < EverySequenceOpNet.ParameterCount; p++)
        {
            model.Parameters[p] += (float)((random.NextDouble() * 2) - 1) * 0.5f;
        }

        int[] ids = Enumerable.Range(0, Batch * EverySequenceOpNet.InputSize).Select(_ => random.Next(7)).ToArray();
        ids[0] = ids[1]; // an id used twice in one example: its embedding row gets both gradients
        float[] c = Enumerable.Range(0, Batch * EverySequenceOpNet.OutputSize).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        var y = new float[c.Length];
        double Loss()
        {
            model.Forward(ids, y);
            return y.Select((v, i) => (double)v * c[i]).Sum();
        }

        Loss();
        model.ZeroGradients();
        model.Backward(c);
        float[] analytic = model.Gradients.ToArray();
        for (int p = 0; p < EverySequenceOpNet.ParameterCount; p++)
        {
            var tensor = EverySequenceOpNet.Description.Tensors.Last(t => t.Offset <= p);
            AssertMatchesCentralDifferences(model.Parameters, p, Loss, analytic[p], $"{tensor.Name}[{p - tensor.Offset}]");
        }

        // Rows of the embedding that no id picked get exactly nothing; the others get something.
        var embed = EverySequenceOpNet.Description.Tensors.Single(t => t.Name == "embed.weight");
        for (int row = 0; row < 7; row++)
        {
            bool used = ids.Contains(row);
            bool touched = analytic.AsSpan(embed.Offset + (row * 6), 6).ToArray().Any(g => g != 0);
            Assert.Equal(used, touched);
        }
    }

    [Fact]
    public void TinyGpt_BackwardMatchesCentralDifferences_OnASample()
    {
        const int Batch = 2;
        var random = new Random(21);
        var model = new TinyGpt(seed: 5, maxBatchSize: Batch);
        model.LoadSafetensors(Golden("TinyGpt.initial.safetensors"));
        int[] ids = Enumerable.Range(0, Batch * TinyGpt.InputSize).Select(_ => random.Next(11)).ToArray();
        float[] c = Enumerable.Range(0, Batch * TinyGpt.OutputSize).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        var y = new float[c.Length];
        double Loss()
        {
            model.Forward(ids, y);
            return y.Select((v, i) => (double)v * c[i]).Sum();
        }

        Loss();
        model.ZeroGradients();
        model.Backward(c);
        float[] analytic = model.Gradients.ToArray();
        // Every tensor's first, middle and last value: 3 × 31 central differences instead of all 7,000.
        foreach (var tensor in TinyGpt.Description.Tensors)
        {
            int count = tensor.Shape.ToArray().Aggregate(1, (a, b) => a * b);
            foreach (int p in new[] { tensor.Offset, tensor.Offset + (count / 2), tensor.Offset + count - 1 }.Distinct())
            {
                AssertMatchesCentralDifferences(model.Parameters, p, Loss, analytic[p], $"{tensor.Name}[{p - tensor.Offset}]");
            }
        }
    }

    /// <summary>
    /// The backward pass's value for parameter <paramref name="p"/> against central differences of <paramref name="loss"/>:
    /// it passes when the difference at h = 1e-3 or at h = 4e-3 (less float noise, more truncation) agrees within 2 %
    /// (relative to the larger magnitude, at least 1e-2). The float forward pass rounds differently on each instruction set
    /// (CI runs these on the Vector128 and scalar paths too), so a single h leaves noise of a few 1e-4 on small gradients.
    /// </summary>
    internal static void AssertMatchesCentralDifferences(Span<float> parameters, int p, Func<double> loss, float analytic, string what)
    {
        double small = Difference(parameters, p, loss, 1e-3f), large = Difference(parameters, p, loss, 4e-3f);
        Assert.True(Error(small) < 2e-2 || Error(large) < 2e-2,
            $"∂L/∂{what}: backward {analytic:R}, central differences {small:R} (h = 1e-3) and {large:R} (h = 4e-3)");

        double Error(double numeric) => Math.Abs(numeric - analytic) / Math.Max(Math.Max(Math.Abs(numeric), Math.Abs(analytic)), 1e-2);
    }

    private static double Difference(Span<float> parameters, int p, Func<double> loss, float h)
    {
        float original = parameters[p];
        parameters[p] = original + h;
        double plus = loss();
        parameters[p] = original - h;
        double minus = loss();
        parameters[p] = original;
        return (plus - minus) / (2 * h);
    }

    [Fact]
    public void EagerForward_ComputesWhatTheGeneratedCodeComputes()
    {
        const int Batch = 3;
        var random = new Random(2);
        var gpt = new TinyGpt(seed: 7, maxBatchSize: Batch);
        gpt.LoadSafetensors(Golden("TinyGpt.initial.safetensors"));
        int[] ids = Enumerable.Range(0, Batch * TinyGpt.InputSize).Select(_ => random.Next(11)).ToArray();
        var generated = new float[Batch * TinyGpt.OutputSize];
        gpt.Forward(ids, generated);
        gpt.Eval();
        float[] eager = gpt.Forward(new Tokens(ids, Batch, 8)).ToArray();
        ModelGoldenTests.AssertClose(eager, generated, 1e-5, "TinyGpt logits");

        var every = new EverySequenceOpNet(seed: 4, maxBatchSize: Batch);
        for (int p = 0; p < EverySequenceOpNet.ParameterCount; p++)
        {
            every.Parameters[p] += (float)((random.NextDouble() * 2) - 1);
        }

        int[] few = Enumerable.Range(0, Batch * EverySequenceOpNet.InputSize).Select(_ => random.Next(7)).ToArray();
        var fromGenerated = new float[Batch * EverySequenceOpNet.OutputSize];
        every.Forward(few, fromGenerated);
        every.Eval();
        ModelGoldenTests.AssertClose(every.Forward(new Tokens(few, Batch, 5)).ToArray(), fromGenerated, 1e-5, "EverySequenceOpNet outputs");
    }

    [Fact]
    public void PerPositionLoss_PredictAndAccuracy_CountEveryPosition()
    {
        const int Batch = 2;
        var model = new TinyGpt(seed: 1, maxBatchSize: Batch);
        var random = new Random(4);
        int[] ids = Enumerable.Range(0, 5 * 8).Select(_ => random.Next(11)).ToArray();   // 5 examples: more than one batch
        var scores = new float[5 * TinyGpt.OutputSize];
        model.Predict(ids, scores);
        var classes = new int[5 * 8];
        model.Predict(ids, classes);
        for (int row = 0; row < classes.Length; row++)
        {
            float[] rowScores = scores.AsSpan(row * 11, 11).ToArray();
            Assert.Equal(Array.IndexOf(rowScores, rowScores.Max()), classes[row]);
        }

        // Labels equal to the predictions give accuracy 1; one changed label of 40 gives 39/40.
        Assert.Equal(1.0, model.Accuracy(ids, classes));
        classes[17] = (classes[17] + 1) % 11;
        Assert.Equal(39.0 / 40, model.Accuracy(ids, classes), 12);

        // The loss is the mean over every position of every example, as F.cross_entropy on the flattened logits.
        var probabilities = new float[scores.Length];
        model.PredictProbabilities(ids, probabilities);
        double expected = 0;
        for (int row = 0; row < classes.Length; row++)
        {
            expected -= Math.Log(probabilities[(row * 11) + classes[row]]);
        }

        Assert.Equal(expected / classes.Length, model.EvaluateLoss(ids, classes), 4);
    }

    [Fact]
    public void BadIdsAndLabels_AreErrorsThatChangeNothing()
    {
        var model = new TinyGpt(seed: 1, maxBatchSize: 2);
        model.UseAdamW(1e-2);
        int[] ids = new int[16];
        int[] labels = new int[16];
        float[] before = model.Parameters.ToArray();

        ids[13] = 11;
        var tooLarge = Assert.Throws<ArgumentOutOfRangeException>(() => model.TrainStep(ids, labels));
        Assert.Equal("inputs", tooLarge.ParamName);
        Assert.Contains("inputs[13] is 11, outside 0 to 10", tooLarge.Message);
        ids[13] = -1;
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Predict(ids, new int[16]));
        ids[13] = 0;

        labels[3] = 11;
        Assert.Equal("labels", Assert.Throws<ArgumentOutOfRangeException>(() => model.TrainStep(ids, labels)).ParamName);
        labels[3] = 0;
        var shortLabels = Assert.Throws<ArgumentException>(() => model.TrainStep(ids, new int[2]));
        Assert.Contains("8 labels per example", shortLabels.Message);
        Assert.Equal(before, model.Parameters.ToArray());

        var eager = Assert.Throws<ArgumentOutOfRangeException>(() => new Embedding(5, 3).Forward(new Tokens(new[] { 0, 5 }, 1, 2)));
        Assert.Equal("ids", eager.ParamName);
    }

    [Theory]
    [InlineData(13)]
    [InlineData(17)]
    public void ExportedOnnx_RunsInOnnxRuntime_AsForwardDoes(int opset)
    {
        const int Batch = 3;
        var random = new Random(opset);
        var gpt = new TinyGpt(seed: 2, maxBatchSize: Batch);
        gpt.LoadSafetensors(Golden("TinyGpt.initial.safetensors"));
        gpt.UseAdamW(1e-2);
        int[] ids = Enumerable.Range(0, Batch * TinyGpt.InputSize).Select(_ => random.Next(11)).ToArray();
        gpt.TrainStep(ids, Enumerable.Range(0, Batch * 8).Select(_ => random.Next(11)).ToArray());
        var expected = new float[Batch * TinyGpt.OutputSize];
        gpt.Forward(ids, expected);
        using (var stream = new MemoryStream())
        {
            gpt.ExportOnnx(stream, opset);
            AssertOnnxRuntimeGives(stream.ToArray(), ids, new[] { Batch, 8 }, expected, new[] { Batch, 8, 11 });
        }

        var every = new EverySequenceOpNet(seed: 4, maxBatchSize: Batch);
        for (int p = 0; p < EverySequenceOpNet.ParameterCount; p++)
        {
            every.Parameters[p] += (float)((random.NextDouble() * 2) - 1);
        }

        int[] few = Enumerable.Range(0, Batch * EverySequenceOpNet.InputSize).Select(_ => random.Next(7)).ToArray();
        var outputs = new float[Batch * EverySequenceOpNet.OutputSize];
        every.Forward(few, outputs);
        using (var stream = new MemoryStream())
        {
            every.ExportOnnx(stream, opset);
            AssertOnnxRuntimeGives(stream.ToArray(), few, new[] { Batch, 5 }, outputs, new[] { Batch, 5, 4 });
        }
    }

    private static void AssertOnnxRuntimeGives(byte[] file, int[] ids, int[] inputShape, float[] expected, int[] outputShape)
    {
        using var session = new InferenceSession(file);
        Assert.Equal(TensorElementType.Int32, session.InputMetadata["ids"].ElementDataType);
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("ids", new DenseTensor<int>(ids, inputShape)) });
        Tensor<float> output = Assert.Single(results).AsTensor<float>();
        Assert.Equal(outputShape, output.Dimensions.ToArray());
        ModelGoldenTests.AssertClose(expected, output.ToArray(), 1e-5, "ONNX Runtime against Forward");
    }

    [Fact]
    public void TrainStep_AllocatesNothing()
    {
        var model = new TinyGpt(seed: 1, maxBatchSize: 4);
        model.UseAdamW(1e-3);
        int[] ids = Enumerable.Range(0, 32).Select(i => i % 11).ToArray();
        int[] labels = Enumerable.Range(0, 32).Select(i => (i * 7) % 11).ToArray();
        for (int i = 0; i < 3; i++)
        {
            model.TrainStep(ids, labels);
        }

        Allocations.AssertSteadyStateAllocatesNothing(() => model.TrainStep(ids, labels), stepsPerWindow: 1);
    }
}
