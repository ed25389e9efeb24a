using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Xunit;

namespace StaticGrad.Tests.Onnx;

/// <summary>
/// The imported PyTorch fixtures against PyTorch 1.13 (make_onnx_fixtures.py writes `*.golden.json`): Forward in evaluation
/// mode matches PyTorch's eval outputs within 1e-5, and 10 SGD steps in training mode (BatchNorm on batch statistics) from
/// the file's weights give PyTorch's losses within 1e-4, then its eval outputs within 1e-4. The script checks that its
/// float32 and float64 runs agree to about 1e-7, so no ReLU or max-pool decision sits on a knife's edge.
/// </summary>
public sealed class FromOnnxGoldenTests
{
    private sealed record Golden(JsonElement Root)
    {
        public float[] Input => Floats("input");

        public int Batch => Root.GetProperty("batch").GetInt32();

        public float[] Floats(string name) => Root.GetProperty(name).EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();

        public int[] Labels => Root.GetProperty("labels").EnumerateArray().Select(e => e.GetInt32()).ToArray();

        public double LearningRate => Root.GetProperty("learning_rate").GetDouble();
    }

    private static Golden Load(string name) =>
        new(JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Onnx", "Golden", name + ".golden.json"))).RootElement);

    /// <summary>The few members the tests need, whichever imported class it is.</summary>
    private sealed record Model(Action<float[], float[]> Forward, Func<float[], Golden, float> TrainStep, Action<double> UseSgd, int OutputSize);

    private static Model Create(string name)
    {
        switch (name)
        {
            case "mlp.opset13":
                {
                    var m = new ImportedMlp13(maxBatchSize: 8);
                    return new Model((x, y) => m.Forward(x, y), (x, g) => m.TrainStep(x, g.Labels), rate => m.UseSgd(rate), ImportedMlp13.OutputSize);
                }

            case "mlp.opset17":
                {
                    var m = new ImportedMlp17(maxBatchSize: 8);
                    return new Model((x, y) => m.Forward(x, y), (x, g) => m.TrainStep(x, g.Labels), rate => m.UseSgd(rate), ImportedMlp17.OutputSize);
                }

            case "cnn.opset13":
                {
                    var m = new ImportedCnn13(maxBatchSize: 8);
                    return new Model((x, y) => m.Forward(x, y), (x, g) => m.TrainStep(x, g.Labels), rate => m.UseSgd(rate), ImportedCnn13.OutputSize);
                }

            case "cnn.opset17":
                {
                    var m = new ImportedCnn17(maxBatchSize: 8);
                    return new Model((x, y) => m.Forward(x, y), (x, g) => m.TrainStep(x, g.Labels), rate => m.UseSgd(rate), ImportedCnn17.OutputSize);
                }

            case "residual.opset13":
                {
                    var m = new ImportedResidual13(maxBatchSize: 8);
                    return new Model((x, y) => m.Forward(x, y), (x, g) => m.TrainStep(x, g.Floats("targets")), rate => m.UseSgd(rate), ImportedResidual13.OutputSize);
                }

            case "residual.opset17":
                {
                    var m = new ImportedResidual17(maxBatchSize: 8);
                    return new Model((x, y) => m.Forward(x, y), (x, g) => m.TrainStep(x, g.Floats("targets")), rate => m.UseSgd(rate), ImportedResidual17.OutputSize);
                }

            case "ops.opset17":
                {
                    var m = new ImportedOps17(maxBatchSize: 8);
                    return new Model((x, y) => m.Forward(x, y), (x, g) => m.TrainStep(x, g.Floats("targets")), rate => m.UseSgd(rate), ImportedOps17.OutputSize);
                }

            default:
                throw new ArgumentException(name);
        }
    }

    public static TheoryData<string> Fixtures() => new() { "mlp.opset13", "mlp.opset17", "cnn.opset13", "cnn.opset17", "residual.opset13", "residual.opset17", "ops.opset17" };

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Forward_MatchesPyTorchEvalOutputs(string name)
    {
        Golden golden = Load(name);
        Model model = Create(name);
        float[] outputs = new float[golden.Batch * model.OutputSize];
        model.Forward(golden.Input, outputs);
        AssertClose(golden.Floats("eval_outputs"), outputs, 1e-5, "eval outputs");
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void TenSgdSteps_FromTheFilesWeights_GivePyTorchsLosses(string name)
    {
        Golden golden = Load(name);
        Model model = Create(name);
        model.UseSgd(golden.LearningRate);
        float[] expected = golden.Floats("losses");
        float[] losses = expected.Select(_ => model.TrainStep(golden.Input, golden)).ToArray();
        AssertClose(expected, losses, 1e-4, "losses", relative: true);
        Assert.True(losses[^1] < losses[0], "the loss did not fall");

        float[] outputs = new float[golden.Batch * model.OutputSize];
        model.Forward(golden.Input, outputs);
        AssertClose(golden.Floats("outputs_after_training"), outputs, 1e-4, "eval outputs after training");
    }

    [Fact]
    public void OnTwoThreads_TheImportedCnnGivesPyTorchsOutputsAndLosses()
    {
        Golden golden = Load("cnn.opset13");
        var model = new ImportedCnn13(maxBatchSize: 8) { Threads = 2 };
        float[] outputs = new float[golden.Batch * ImportedCnn13.OutputSize];
        model.Forward(golden.Input, outputs);
        AssertClose(golden.Floats("eval_outputs"), outputs, 1e-5, "eval outputs");
        model.UseSgd(golden.LearningRate);
        float[] losses = golden.Floats("losses").Select(_ => model.TrainStep(golden.Input, golden.Labels)).ToArray();
        AssertClose(golden.Floats("losses"), losses, 1e-4, "losses", relative: true);
    }

    [Fact]
    public void Embedding_OverTokenIds_MatchesPyTorch_AndTrainsAsPyTorch()
    {
        Golden golden = Load("embed.opset17");
        int[] ids = golden.Input.Select(v => (int)v).ToArray();
        var model = new ImportedEmbed17(maxBatchSize: 8);
        float[] outputs = new float[golden.Batch * ImportedEmbed17.OutputSize];
        model.Forward(ids, outputs);
        AssertClose(golden.Floats("eval_outputs"), outputs, 1e-5, "eval outputs");
        model.UseSgd(golden.LearningRate);
        float[] losses = golden.Floats("losses").Select(_ => model.TrainStep(ids, golden.Labels)).ToArray();
        AssertClose(golden.Floats("losses"), losses, 1e-4, "losses", relative: true);
        Assert.Equal(new[] { "tokens.weight", "head.weight", "head.bias" }, ImportedEmbed17.Description.Tensors.Select(t => t.Name));
        ids[3] = 12;
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward(ids, outputs)); // the table has 12 rows
    }

    [Fact]
    public void TinyGpt_Forward_MatchesPyTorchsEvalOutputs()
    {
        Golden golden = Load("gpt.opset17");
        int[] ids = golden.Input.Select(v => (int)v).ToArray();
        Assert.Equal(8 * 11, ImportedGpt17.OutputSize); // 11 scores at each of 8 positions
        var model = new ImportedGpt17(maxBatchSize: 8);
        float[] outputs = new float[golden.Batch * ImportedGpt17.OutputSize];
        model.Forward(ids, outputs);
        AssertClose(golden.Floats("eval_outputs"), outputs, 1e-5, "eval outputs");
    }

    [Fact]
    public void TinyGpt_TenSgdSteps_OnACrossEntropyPerPosition_GivePyTorchsLosses()
    {
        Golden golden = Load("gpt.opset17");
        int[] ids = golden.Input.Select(v => (int)v).ToArray();
        Assert.Equal(golden.Batch * 8, golden.Labels.Length); // a label per position
        var model = new ImportedGpt17(maxBatchSize: 8);
        model.UseSgd(golden.LearningRate);
        float[] expected = golden.Floats("losses");
        float[] losses = expected.Select(_ => model.TrainStep(ids, golden.Labels)).ToArray();
        AssertClose(expected, losses, 1e-4, "losses", relative: true);
        Assert.True(losses[^1] < losses[0], "the loss did not fall");

        float[] outputs = new float[golden.Batch * ImportedGpt17.OutputSize];
        model.Forward(ids, outputs);
        AssertClose(golden.Floats("outputs_after_training"), outputs, 1e-4, "eval outputs after training");
    }

    [Fact]
    public void TinyGpt_HasPyTorchsStateDictNames_ThePositionTensorAParameter_AndTheCausalMaskNot()
    {
        // PyTorch's model.state_dict().keys(); the bias-less Linears (MatMul of a transposed `onnx::MatMul_n` initializer)
        // take their module's path from the node's name, /blocks.0/query/MatMul.
        string[] pytorch =
        {
            "position", "tokens.weight", "blocks.0.ln1.weight", "blocks.0.ln1.bias", "blocks.0.query.weight", "blocks.0.key.weight",
            "blocks.0.value.weight", "blocks.0.proj.weight", "blocks.0.proj.bias", "blocks.0.ln2.weight", "blocks.0.ln2.bias",
            "blocks.0.up.weight", "blocks.0.up.bias", "blocks.0.down.weight", "blocks.0.down.bias", "final.weight", "final.bias", "head.weight",
        };
        Assert.Equal(pytorch.OrderBy(n => n, StringComparer.Ordinal), ImportedGpt17.Description.Tensors.Select(t => t.Name).OrderBy(n => n, StringComparer.Ordinal));
        Assert.Equal(
            (11 * 16) + (8 * 16) + (4 * 16) + (3 * 16 * 16) + (16 * 16) + 16 + (16 * 32) + 32 + (32 * 16) + 16 + (2 * 16) + (16 * 11),
            ImportedGpt17.ParameterCount); // PyTorch's parameters, without the 8×8 mask
    }

    [Fact]
    public void Output_CutsTheGraphAtTheHiddenRelu_WhoseFeaturesArePyTorchs()
    {
        Golden golden = Load("mlp.opset13");
        Assert.Equal(32, ImportedMlpFeatures.OutputSize);
        Assert.Equal(64 * 32 + 32, ImportedMlpFeatures.ParameterCount); // fc2 is left out
        var model = new ImportedMlpFeatures(maxBatchSize: 8);
        float[] features = new float[golden.Batch * ImportedMlpFeatures.OutputSize];
        model.Forward(golden.Input, features);
        AssertClose(golden.Floats("hidden_features"), features, 1e-5, "hidden features");
        Assert.Equal(new[] { "fc1.weight", "fc1.bias" }, ImportedMlpFeatures.Description.Tensors.Select(t => t.Name));
    }

    [Fact]
    public void FrozenImport_WithANewHead_TrainsOnlyTheHead_AsALinearOnTheFixedFeatures()
    {
        Golden golden = Load("mlp.opset13");
        int[] labels = golden.Labels.Select(l => l % 4).ToArray();
        var frozen = new ImportedMlpFrozenHead(seed: 3, maxBatchSize: 8);
        Assert.Equal(64 * 32 + 32 + (32 * 4) + 4, ImportedMlpFrozenHead.ParameterCount);
        Assert.Equal(new[] { "fc1.weight", "fc1.bias", "head.weight", "head.bias" }, ImportedMlpFrozenHead.Description.Tensors.Select(t => t.Name));
        float[] imported = frozen.Parameters[..2080].ToArray();
        Assert.Equal(new ImportedMlpFeatures().Parameters.ToArray(), imported);

        // The same head on the features the file's layers give, as a separate C# model.
        var features = new float[golden.Batch * 32];
        new ImportedMlpFeatures(maxBatchSize: 8).Forward(golden.Input, features);
        var reference = new FeatureHead(maxBatchSize: 8);
        frozen.Parameters[2080..].CopyTo(reference.Parameters);

        frozen.UseSgd(0.1, momentum: 0.9, weightDecay: 0.01);
        reference.UseSgd(0.1, momentum: 0.9, weightDecay: 0.01);
        for (int step = 0; step < 10; step++)
        {
            float loss = frozen.TrainStep(golden.Input, labels), expected = reference.TrainStep(features, labels);
            Assert.True(Math.Abs(loss - expected) <= 1e-5 * Math.Max(1, expected), $"step {step}: frozen model {loss}, head on fixed features {expected}");
        }

        Assert.Equal(imported, frozen.Parameters[..2080].ToArray()); // not a bit changed: no gradient, no weight decay
        AssertClose(reference.Parameters.ToArray(), frozen.Parameters[2080..].ToArray(), 1e-5, "head parameters");
    }

    [Fact]
    public void UnfrozenImport_WithANewHead_TrainsTheImportedLayersToo()
    {
        Golden golden = Load("mlp.opset13");
        var model = new ImportedMlpNewHead(seed: 3, maxBatchSize: 8);
        float[] before = model.Parameters[..2080].ToArray();
        model.UseSgd(0.1);
        float first = model.TrainStep(golden.Input, golden.Labels.Select(l => l % 4).ToArray()), last = first;
        for (int step = 0; step < 9; step++)
        {
            last = model.TrainStep(golden.Input, golden.Labels.Select(l => l % 4).ToArray());
        }

        Assert.True(last < first, $"the loss did not fall: {first} → {last}");
        Assert.NotEqual(before, model.Parameters[..2080].ToArray());
    }

    /// <summary>Each value within <paramref name="tolerance"/>, absolute up to 1 and relative above (or relative throughout).</summary>
    private static void AssertClose(float[] expected, float[] actual, double tolerance, string what, bool relative = false)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(expected[i] - actual[i]) / (relative ? Math.Abs(expected[i]) : Math.Max(1, Math.Abs(expected[i])));
            Assert.True(error <= tolerance, $"{what}[{i}]: PyTorch {expected[i]:R}, StaticGrad {actual[i]:R} (difference {error:E2} > {tolerance:E0})");
        }
    }
}
