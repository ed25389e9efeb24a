using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using StaticGrad.Tests.Infrastructure;
using Xunit;

namespace StaticGrad.Tests.Models;

/// <summary>
/// GRU and LSTM written as C# (<c>var (output, hidden) = gru.Forward(x)</c>): forward and backward through time against
/// PyTorch 1.13's nn.GRU and nn.LSTM (Golden/make_recurrent_golden.py: the same initial weights, a random batch, every
/// parameter's gradient of Σ outputs·dy), central differences, the eager source, names and located errors.
/// </summary>
public sealed class RecurrentModelTests
{
    private static string Golden(string file) => Path.Combine(AppContext.BaseDirectory, "Models", "Golden", file);

    private static float[] Floats(JsonElement array) => array.EnumerateArray().Select(e => e.GetSingle()).ToArray();

    /// <summary>What the golden check needs of a generated model, whichever class it is.</summary>
    private sealed record Twin(int OutputSize, Action<string> Load, Action<float[], float[]> Forward, Action<float[]> Backward, Func<float[]> Parameters, Func<float[]> Gradients);

    private static Twin Make(string name, int batch)
    {
        switch (name)
        {
            case nameof(GruOneLayer):
                {
                    var m = new GruOneLayer(maxBatchSize: batch);
                    return new Twin(GruOneLayer.OutputSize, p => m.LoadSafetensors(p), (x, y) => m.Forward(x, y), g => m.Backward(g), () => m.Parameters.ToArray(), () => m.Gradients.ToArray());
                }

            case nameof(GruTwoLayers):
                {
                    var m = new GruTwoLayers(maxBatchSize: batch);
                    return new Twin(GruTwoLayers.OutputSize, p => m.LoadSafetensors(p), (x, y) => m.Forward(x, y), g => m.Backward(g), () => m.Parameters.ToArray(), () => m.Gradients.ToArray());
                }

            case nameof(LstmOneLayer):
                {
                    var m = new LstmOneLayer(maxBatchSize: batch);
                    return new Twin(LstmOneLayer.OutputSize, p => m.LoadSafetensors(p), (x, y) => m.Forward(x, y), g => m.Backward(g), () => m.Parameters.ToArray(), () => m.Gradients.ToArray());
                }

            case nameof(GruWide):
                {
                    var m = new GruWide(maxBatchSize: batch);
                    return new Twin(GruWide.OutputSize, p => m.LoadSafetensors(p), (x, y) => m.Forward(x, y), g => m.Backward(g), () => m.Parameters.ToArray(), () => m.Gradients.ToArray());
                }

            case nameof(LstmWide):
                {
                    var m = new LstmWide(maxBatchSize: batch);
                    return new Twin(LstmWide.OutputSize, p => m.LoadSafetensors(p), (x, y) => m.Forward(x, y), g => m.Backward(g), () => m.Parameters.ToArray(), () => m.Gradients.ToArray());
                }

            default:
                {
                    var m = new LstmTwoLayers(maxBatchSize: batch);
                    return new Twin(LstmTwoLayers.OutputSize, p => m.LoadSafetensors(p), (x, y) => m.Forward(x, y), g => m.Backward(g), () => m.Parameters.ToArray(), () => m.Gradients.ToArray());
                }
        }
    }

    [Theory]
    [InlineData(nameof(GruOneLayer))]
    [InlineData(nameof(GruTwoLayers))]
    [InlineData(nameof(LstmOneLayer))]
    [InlineData(nameof(LstmTwoLayers))]
    [InlineData(nameof(GruWide))]
    [InlineData(nameof(LstmWide))]
    public void ForwardAndBackwardThroughTime_MatchPyTorch(string name)
    {
        JsonElement run = JsonDocument.Parse(File.ReadAllText(Golden("Recurrent.json"))).RootElement.GetProperty(name);
        int batch = run.GetProperty("batch").GetInt32();
        Twin model = Make(name, batch);
        model.Load(Golden($"{name}.initial.safetensors"));
        var outputs = new float[batch * model.OutputSize];
        model.Forward(Floats(run.GetProperty("x")), outputs);
        ModelGoldenTests.AssertClose(Floats(run.GetProperty("outputs")), outputs, 1e-5, $"{name} output and final states");

        model.Backward(Floats(run.GetProperty("dy")));
        Twin expected = Make(name, batch);
        expected.Load(Golden($"{name}.gradients.safetensors"));   // the gradients, stored under the parameters' names
        ModelGoldenTests.AssertClose(expected.Parameters(), model.Gradients(), 1e-5, $"{name} parameter gradients");
    }

    [Fact]
    public void Parameters_HavePyTorchsNamesShapesAndOrder()
    {
        Assert.Equal(
            new[] { "gru.weight_ih_l0", "gru.weight_hh_l0", "gru.bias_ih_l0", "gru.bias_hh_l0", "gru.weight_ih_l1", "gru.weight_hh_l1", "gru.bias_ih_l1", "gru.bias_hh_l1" },
            GruTwoLayers.Description.Tensors.Select(t => t.Name).ToArray());
        Assert.Equal(new[] { 15, 3 }, GruTwoLayers.Description.Tensors[0].Shape.ToArray());
        Assert.Equal(new[] { 15, 5 }, GruTwoLayers.Description.Tensors[4].Shape.ToArray());
        Assert.Equal(new[] { "lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.weight_ih_l1", "lstm.weight_hh_l1" }, LstmTwoLayers.Description.Tensors.Select(t => t.Name).ToArray());
        Assert.Equal(new[] { 20, 5 }, LstmTwoLayers.Description.Tensors[1].Shape.ToArray());
        Assert.True(GruTwoLayers.Description.Tensors[0].IsWeight);
        Assert.False(GruTwoLayers.Description.Tensors[2].IsWeight);
        Assert.Equal(8 * 5, GruTwoLayers.OutputSize);
        Assert.Equal(10 * 5, LstmTwoLayers.OutputSize);
    }

    [Fact]
    public void Initialisation_IsUniformWithinOneOverRootHidden()
    {
        var model = new GruForecaster(seed: 9, maxBatchSize: 1);
        float bound = 1 / MathF.Sqrt(8);
        float[] recurrent = model.Parameters.Slice(0, 8 * 24 * 2 + 24 * 8 + 2 * 24 * 2).ToArray();   // every GRU tensor comes first
        Assert.All(recurrent, v => Assert.InRange(v, -bound, bound));
        Assert.True(recurrent.Max() > bound * 0.9f && recurrent.Min() < -bound * 0.9f, "the values should fill the interval");
    }

    [Fact]
    public void Forecaster_BackwardMatchesCentralDifferences()
    {
        const int Batch = 3;
        var model = new GruForecaster(seed: 2, maxBatchSize: Batch);
        CheckAgainstCentralDifferences(new Random(31), Batch, GruForecaster.InputSize, GruForecaster.OutputSize, GruForecaster.Description,
            (x, y) => model.Forward(x, y), model.ZeroGradients, c => model.Backward(c), () => model.Parameters, () => model.Gradients.ToArray(), every: 3);
    }

    [Fact]
    public void Lstm_InputGradientMatchesCentralDifferences()
    {
        // The input of a recurrent layer gets a gradient too (a layer below it, an embedding): LSTM over a Linear, every
        // tensor's first, middle and last value.
        const int Batch = 2;
        var model = new LstmOverLinear(seed: 6, maxBatchSize: Batch);
        CheckAgainstCentralDifferences(new Random(8), Batch, LstmOverLinear.InputSize, LstmOverLinear.OutputSize, LstmOverLinear.Description,
            (x, y) => model.Forward(x, y), model.ZeroGradients, c => model.Backward(c), () => model.Parameters, () => model.Gradients.ToArray(), every: 0);
    }

    private delegate Span<float> SpanOf();

    /// <summary>
    /// The backward pass of L = Σ c·Forward(x) (random x and c) against central differences: every <paramref name="every"/>-th
    /// parameter, or (0) each tensor's first, middle and last value.
    /// </summary>
    private static void CheckAgainstCentralDifferences(Random random, int batch, int inputSize, int outputSize, StaticGrad.Interchange.NetworkDescription description,
        Action<float[], float[]> forward, Action zeroGradients, Action<float[]> backward, SpanOf parameters, Func<float[]> gradients, int every)
    {
        float[] x = Enumerable.Range(0, batch * inputSize).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        float[] c = Enumerable.Range(0, batch * outputSize).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        var y = new float[c.Length];
        double Loss()
        {
            forward(x, y);
            return y.Select((v, i) => (double)v * c[i]).Sum();
        }

        Loss();
        zeroGradients();
        backward(c);
        float[] analytic = gradients();
        var checkedAt = every > 0
            ? Enumerable.Range(0, analytic.Length).Where(p => p % every == 0)
            : description.Tensors.SelectMany(t => new[] { t.Offset, t.Offset + (t.Count / 2), t.Offset + t.Count - 1 }).Distinct();
        foreach (int p in checkedAt)
        {
            var tensor = description.Tensors.Last(t => t.Offset <= p);
            SequenceModelTests.AssertMatchesCentralDifferences(parameters(), p, Loss, analytic[p], $"{tensor.Name}[{p - tensor.Offset}]");
        }
    }

    [Fact]
    public void EagerForward_ComputesWhatTheGeneratedCodeComputes()
    {
        const int Batch = 3;
        var random = new Random(5);
        var forecaster = new GruForecaster(seed: 4, maxBatchSize: Batch);
        float[] x = Enumerable.Range(0, Batch * GruForecaster.InputSize).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        var generated = new float[Batch * GruForecaster.OutputSize];
        forecaster.Forward(x, generated);
        forecaster.Eval();
        ModelGoldenTests.AssertClose(forecaster.Forward(new Tensor(x, Batch, 10, 2)).ToArray(), generated, 1e-5, "GruForecaster");

        var lstm = new LstmTwoLayers(seed: 4, maxBatchSize: Batch);
        float[] sequence = Enumerable.Range(0, Batch * LstmTwoLayers.InputSize).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        var fromGenerated = new float[Batch * LstmTwoLayers.OutputSize];
        lstm.Forward(sequence, fromGenerated);
        lstm.Eval();
        ModelGoldenTests.AssertClose(lstm.Forward(new Tensor(sequence, Batch, 6, 3)).ToArray(), fromGenerated, 1e-5, "LstmTwoLayers");
    }

    [Fact]
    public void Forecaster_Trains_AndAllocatesNothingPerStep()
    {
        const int Batch = 16;
        var random = new Random(3);
        var model = new GruForecaster(seed: 1, maxBatchSize: Batch);
        model.UseAdam(0.01);
        // Next values of two noisy sines from a window of 10: a loss that training must bring down.
        var x = new float[Batch * 20];
        var t = new float[Batch * 2];
        void Draw()
        {
            for (int b = 0; b < Batch; b++)
            {
                double phase = random.NextDouble() * 6.28;
                for (int s = 0; s <= 10; s++)
                {
                    float a = (float)Math.Sin(phase + (0.5 * s)), c = (float)Math.Cos(phase + (0.3 * s));
                    if (s < 10)
                    {
                        x[(b * 20) + (s * 2)] = a;
                        x[(b * 20) + (s * 2) + 1] = c;
                    }
                    else
                    {
                        t[b * 2] = a;
                        t[(b * 2) + 1] = c;
                    }
                }
            }
        }

        Draw();
        float first = model.TrainStep(x, t);
        for (int step = 0; step < 300; step++)
        {
            Draw();
            model.TrainStep(x, t);
        }

        Draw();
        Assert.True(model.EvaluateLoss(x, t) < first / 10, $"the loss should fall tenfold from {first}");
        Allocations.AssertSteadyStateAllocatesNothing(() => model.TrainStep(x, t), stepsPerWindow: 1);
    }
}
