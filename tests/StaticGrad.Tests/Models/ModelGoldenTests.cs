using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using StaticGrad.Interchange;
using Xunit;

namespace StaticGrad.Tests.Models;

/// <summary>
/// The generated models retrace PyTorch 1.13 (Golden/make_models_golden.py): from the same initial state_dict and the same
/// batches, 20 steps of SGD with momentum give the same loss at every step (within 1e-4 relative), the same final
/// parameters, running statistics and num_batches_tracked, and the same eval() outputs (within 1e-5).
/// </summary>
public sealed class ModelGoldenTests
{
    private static string Golden(string file) => Path.Combine(AppContext.BaseDirectory, "Models", "Golden", file);

    private sealed record Run(JsonElement Root)
    {
        public int Steps => Root.GetProperty("steps").GetInt32();

        public double LearningRate => Root.GetProperty("lr").GetDouble();

        public double Momentum => Root.GetProperty("momentum").GetDouble();

        public float[] Input(int step, int input) => Floats(Root.GetProperty("inputs")[step][input]);

        public int[] Labels(int step) => Root.GetProperty("labels")[step].EnumerateArray().Select(e => e.GetInt32()).ToArray();

        public float[] Targets(int step) => Floats(Root.GetProperty("targets")[step]);

        public float Loss(int step) => Root.GetProperty("losses")[step].GetSingle();

        public float[] EvalInput(int input) => Floats(Root.GetProperty("eval_inputs")[input]);

        public float[] EvalOutputs => Floats(Root.GetProperty("eval_outputs"));

        private static float[] Floats(JsonElement array) => array.EnumerateArray().Select(e => e.GetSingle()).ToArray();
    }

    private static Run Load(string name) => new(JsonDocument.Parse(File.ReadAllText(Golden(name + ".json"))).RootElement);

    [Fact]
    public void TinyResNet_RetracesPyTorch()
    {
        Run run = Load("TinyResNet");
        var model = new TinyResNet(maxBatchSize: 8);
        model.LoadSafetensors(Golden("TinyResNet.initial.safetensors"));
        model.UseSgd(run.LearningRate, run.Momentum);
        for (int step = 0; step < run.Steps; step++)
        {
            float loss = model.TrainStep(run.Input(step, 0), run.Labels(step));
            AssertRelative(run.Loss(step), loss, 1e-4, $"loss at step {step}");
        }

        var expected = new TinyResNet(maxBatchSize: 8);
        expected.LoadSafetensors(Golden("TinyResNet.final.safetensors"));
        AssertClose(expected.Parameters.ToArray(), model.Parameters.ToArray(), 1e-5, "parameters");
        AssertClose(expected.Buffers.ToArray(), model.Buffers.ToArray(), 1e-5, "running statistics");
        Assert.All(model.NamedCounters(), pair => Assert.Equal(20, pair.Value.Value));

        var outputs = new float[8 * TinyResNet.OutputSize];
        model.Forward(run.EvalInput(0), outputs);
        AssertClose(run.EvalOutputs, outputs, 1e-5, "eval outputs");
    }

    /// <summary>
    /// The double model on the same golden run: the script checks that PyTorch's float64 run of it agrees with the float32
    /// losses written within 1e-6 relative and the final state within 1e-5, so a model in double must land that close —
    /// 30 times tighter than the float model's 1e-4 — from the float32 initial state widened.
    /// </summary>
    [Fact]
    public void TinyResNetDouble_RetracesPyTorchsFloat64Run()
    {
        Run run = Load("TinyResNet");
        var model = new TinyResNetDouble(maxBatchSize: 8);
        Assert.Throws<InvalidDataException>(() => model.LoadSafetensors(Golden("TinyResNet.initial.safetensors"))); // F32 needs the conversion asked for
        model.LoadSafetensors(Golden("TinyResNet.initial.safetensors"), allowConversion: true);
        model.UseSgd(run.LearningRate, run.Momentum);
        for (int step = 0; step < run.Steps; step++)
        {
            double loss = model.TrainStep(Widen(run.Input(step, 0)), run.Labels(step));
            AssertRelative(run.Loss(step), loss, 3e-6, $"loss at step {step}");
        }

        var expected = new TinyResNetDouble(maxBatchSize: 8);
        expected.LoadSafetensors(Golden("TinyResNet.final.safetensors"), allowConversion: true);
        AssertClose(Narrow(expected.Parameters), Narrow(model.Parameters), 2e-5, "parameters");
        AssertClose(Narrow(expected.Buffers), Narrow(model.Buffers), 2e-5, "running statistics");
        var outputs = new double[8 * TinyResNetDouble.OutputSize];
        model.Forward(Widen(run.EvalInput(0)), outputs);
        AssertClose(run.EvalOutputs, Narrow(outputs), 2e-5, "eval outputs");

        static double[] Widen(float[] values) => values.Select(v => (double)v).ToArray();
        static float[] Narrow(Span<double> values) => values.ToArray().Select(v => (float)v).ToArray();
    }

    [Fact]
    public void SkipMlp_RetracesPyTorch()
    {
        Run run = Load("SkipMlp");
        var model = new SkipMlp(maxBatchSize: 8);
        model.LoadSafetensors(Golden("SkipMlp.initial.safetensors"));
        model.UseSgd(run.LearningRate, run.Momentum);
        for (int step = 0; step < run.Steps; step++)
        {
            AssertRelative(run.Loss(step), model.TrainStep(run.Input(step, 0), run.Labels(step)), 1e-4, $"loss at step {step}");
        }

        var expected = new SkipMlp(maxBatchSize: 8);
        expected.LoadSafetensors(Golden("SkipMlp.final.safetensors"));
        AssertClose(expected.Parameters.ToArray(), model.Parameters.ToArray(), 1e-5, "parameters");
        var outputs = new float[8 * SkipMlp.OutputSize];
        model.Forward(run.EvalInput(0), outputs);
        AssertClose(run.EvalOutputs, outputs, 1e-5, "eval outputs");
    }

    [Fact]
    public void TwoInputNet_RetracesPyTorch()
    {
        Run run = Load("TwoInputNet");
        var model = new TwoInputNet(maxBatchSize: 8);
        model.LoadSafetensors(Golden("TwoInputNet.initial.safetensors"));
        model.UseSgd(run.LearningRate, run.Momentum);
        for (int step = 0; step < run.Steps; step++)
        {
            AssertRelative(run.Loss(step), model.TrainStep(run.Input(step, 0), run.Input(step, 1), run.Targets(step)), 1e-4, $"loss at step {step}");
        }

        var expected = new TwoInputNet(maxBatchSize: 8);
        expected.LoadSafetensors(Golden("TwoInputNet.final.safetensors"));
        AssertClose(expected.Parameters.ToArray(), model.Parameters.ToArray(), 1e-5, "parameters");
        var outputs = new float[8 * TwoInputNet.OutputSize];
        model.Forward(run.EvalInput(0), run.EvalInput(1), outputs);
        AssertClose(run.EvalOutputs, outputs, 1e-5, "eval outputs");
    }

    [Fact]
    public void StateDictNames_AreTheOnesPyTorchWrote()
    {
        Assert.Equal(
            new[] { "stem.weight", "stem.bias", "bn.weight", "bn.bias", "block1.conv1.weight", "block1.bn1.weight", "block1.bn1.bias", "block1.conv2.weight", "block1.bn2.weight", "block1.bn2.bias" },
            TinyResNet.Description.Tensors.Select(t => t.Name).Take(10));
        Assert.Contains(TinyResNet.State.Counters, c => c.Name == "block2.bn2.num_batches_tracked");
        Assert.Equal(new[] { 3, 16 }, TinyResNet.Description.Tensors.Single(t => t.Name == "head.weight").Shape.ToArray());
    }

    internal static void AssertRelative(double expected, double actual, double tolerance, string what)
    {
        double error = Math.Abs(expected - actual) / Math.Max(Math.Abs(expected), 1e-12);
        Assert.True(error <= tolerance, $"{what}: expected {expected:R}, got {actual:R} (relative error {error:E2} > {tolerance:E0})");
    }

    internal static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(expected[i] - actual[i]) / Math.Max(Math.Abs(expected[i]), 1);
            Assert.True(error <= tolerance, $"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R} (error {error:E2} > {tolerance:E0})");
        }
    }
}
