using System;
using System.IO;
using System.Linq;
using StaticGrad;
using StaticGrad.Interchange;
using StaticGrad.Training;
using Xunit;
using static StaticGrad.Functional;

namespace StaticGrad.Tests.Models;

/// <summary>The input is read twice (by a Linear and by the residual add), so its gradient is a sum of two uses.</summary>
[Model(Loss = Loss.MeanSquaredError)]
public partial class InputTwiceNet
{
    readonly Linear fc = new(6, 6);
    readonly Linear head = new(6, 3);

    public Tensor Forward([Shape(6)] Tensor x) => head.Forward(Tanh(fc.Forward(x)) + x);
}

/// <summary>
/// What a <c>[Model]</c> of one float input shares with the attribute networks: <c>IClassifier&lt;float&gt;</c> or
/// <c>IRegressor&lt;float&gt;</c> (so <c>TrainEpoch</c> and <c>MiniBatches</c> train it), the gradient with respect to its
/// inputs, <c>ComputeLoss</c>, labels of every width, and <c>Save</c>/<c>Load</c> of its whole state.
/// </summary>
public sealed class ModelInterfaceTests
{
    private static float[] Random(int length, int seed, double scale = 1)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)(((random.NextDouble() * 2) - 1) * scale)).ToArray();
    }

    [Fact]
    public void Models_OfOneFloatInput_ImplementTheNetworkInterfaces()
    {
        Assert.IsAssignableFrom<IClassifier<float>>(new TinyResNet(maxBatchSize: 2));
        Assert.IsAssignableFrom<IClassifier<float>>(new SkipMlp(maxBatchSize: 2));
        Assert.IsAssignableFrom<IRegressor<float>>(new GruForecaster(maxBatchSize: 2));
        Assert.IsAssignableFrom<IRegressor<float>>(new InputTwiceNet(maxBatchSize: 2));
        Assert.False(new TinyGpt(maxBatchSize: 2) is INetwork<float>);       // token inputs
        Assert.False(new TwoInputNet(maxBatchSize: 2) is INetwork<float>);   // two inputs
    }

    [Fact]
    public void TrainEpoch_TrainsAModelThroughTheInterface()
    {
        const int Count = 96;
        float[] x = Random(Count * SkipMlp.InputSize, 1);
        // Labels a function of the inputs, so there is something to learn.
        ushort[] labels = Enumerable.Range(0, Count).Select(i => (ushort)(x[i * 6] > 0 ? (x[(i * 6) + 1] > 0 ? 2 : 1) : 0)).ToArray();
        IClassifier<float> model = new SkipMlp(seed: 3, maxBatchSize: 16);
        model.Optimizer = new Adam(1e-2);
        var batches = new MiniBatches<float, ushort>(x, labels, SkipMlp.InputSize, batchSize: 16, seed: 1);
        double first = model.TrainEpoch(batches).MeanLoss, last = first;
        for (int epoch = 0; epoch < 20; epoch++)
        {
            last = model.TrainEpoch(batches).MeanLoss;
        }

        Assert.True(last < 0.5 * first, $"mean loss {first} → {last}");
        Assert.True(model.Accuracy(x, labels) > 0.8);
        Assert.Equal(model.Accuracy(x, labels.Select(l => (int)l).ToArray()), model.Accuracy(x, labels.Select(l => (byte)l).ToArray()));
        Assert.Equal(model.EvaluateLoss(x, labels.Select(l => (int)l).ToArray()), model.EvaluateLoss(x, labels), 12);
    }

    [Fact]
    public void Regressor_TrainsThroughTheInterface()
    {
        const int Count = 64;
        float[] x = Random(Count * GruForecaster.InputSize, 2);
        float[] y = Enumerable.Range(0, Count * 2).Select(i => 0.5f * x[((i / 2) * GruForecaster.InputSize) + 18 + (i % 2)]).ToArray();   // half of the last step
        IRegressor<float> model = new GruForecaster(seed: 2, maxBatchSize: 16);
        model.Optimizer = new Adam(1e-2);
        var batches = new MiniBatches<float, float>(x, y, GruForecaster.InputSize, batchSize: 16, seed: 1, labelsPerExample: 2);
        double first = model.TrainEpoch(batches).MeanLoss, last = first;
        for (int epoch = 0; epoch < 15; epoch++)
        {
            last = model.TrainEpoch(batches).MeanLoss;
        }

        Assert.True(last < 0.5 * first, $"mean loss {first} → {last}");
    }

    [Fact]
    public void ComputeLoss_OfForwardsOutputs_IsEvaluateLoss_AndItsGradientDrivesBackward()
    {
        const int Batch = 8;
        float[] x = Random(Batch * SkipMlp.InputSize, 4);
        int[] labels = Enumerable.Range(0, Batch).Select(i => i % 3).ToArray();
        var model = new SkipMlp(seed: 4, maxBatchSize: Batch);
        float[] outputs = new float[Batch * SkipMlp.OutputSize], gradient = new float[outputs.Length];
        model.Forward(x, outputs);
        float loss = model.ComputeLoss(outputs, labels, gradient);
        Assert.Equal(model.EvaluateLoss(x, labels), loss, 5);
        Assert.Equal(loss, model.ComputeLoss(outputs, labels, default));

        // The softmax cross-entropy gradient: (softmax − one-hot) / batch, so each row sums to 0.
        for (int r = 0; r < Batch; r++)
        {
            Assert.Equal(0, gradient.Skip(r * 3).Take(3).Sum(), 6);
        }

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => model.ComputeLoss(outputs, labels.Select(l => l == 2 ? 3 : l).ToArray(), gradient));
        Assert.Equal("labels", error.ParamName);
        Assert.Equal("outputs", Assert.Throws<ArgumentException>(() => model.ComputeLoss(outputs.AsSpan(1).ToArray(), labels, default)).ParamName);
        Assert.Equal("outputGradients", Assert.Throws<ArgumentException>(() => model.ComputeLoss(outputs, labels, new float[5])).ParamName);
    }

    [Theory]
    [InlineData("SkipMlp")]
    [InlineData("InputTwiceNet")]
    public void InputGradient_MatchesCentralDifferences(string which)
    {
        const int Batch = 3;
        INetwork<float> model = which == "SkipMlp" ? new SkipMlp(seed: 5, maxBatchSize: Batch) : new InputTwiceNet(seed: 5, maxBatchSize: Batch);
        int inputs = model.InputSize, outputs = model.OutputSize;
        float[] x = Random(Batch * inputs, 6), r = Random(Batch * outputs, 7);
        var y = new float[Batch * outputs];
        double Loss(float[] at)
        {
            model.Forward(at, y);
            return y.Select((v, i) => (double)v * r[i]).Sum();
        }

        model.Forward(x, y);
        var dx = new float[x.Length];
        model.ZeroGradients();
        model.Backward(r, dx);
        double scale = dx.Max(v => Math.Abs(v));
        Assert.True(scale > 1e-2, "the input gradient is not trivially small");
        const float H = 1e-2f;
        for (int i = 0; i < x.Length; i++)
        {
            float[] plus = (float[])x.Clone(), minus = (float[])x.Clone();
            plus[i] += H;
            minus[i] -= H;
            double numeric = (Loss(plus) - Loss(minus)) / (plus[i] - minus[i]);
            Assert.True(Math.Abs(numeric - dx[i]) <= 2e-3 * scale, $"∂L/∂x[{i}]: {dx[i]} from Backward, {numeric} from central differences");
        }
    }

    [Fact]
    public void BackwardWithInputGradients_AddsTheSameParameterGradients_AndEmptySkipsIt()
    {
        const int Batch = 4;
        float[] x = Random(Batch * TinyResNet.InputSize, 8), r = Random(Batch * TinyResNet.OutputSize, 9);
        var model = new TinyResNet(seed: 6, maxBatchSize: Batch);
        var y = new float[Batch * TinyResNet.OutputSize];
        model.Forward(x, y);
        model.ZeroGradients();
        model.Backward(r);
        float[] alone = model.Gradients.ToArray();
        model.ZeroGradients();
        var dx = new float[x.Length];
        model.Backward(r, dx);
        Assert.Equal(alone, model.Gradients.ToArray());
        Assert.Contains(dx, v => v != 0);
        model.ZeroGradients();
        model.Backward(r, Span<float>.Empty);
        Assert.Equal(alone, model.Gradients.ToArray());

        var error = Assert.Throws<ArgumentException>(() => model.Backward(r, new float[x.Length - 1]));
        Assert.Equal("inputGradients", error.ParamName);
    }

    [Fact]
    public void SaveAndLoad_RoundTripTheWholeState_AndRejectWhatIsNotThisModel()
    {
        const int Batch = 16;
        float[] x = Random(Batch * TinyResNet.InputSize, 10);
        int[] labels = Enumerable.Range(0, Batch).Select(i => i % 3).ToArray();
        var trained = new TinyResNet(seed: 7, maxBatchSize: Batch);
        trained.UseSgd(0.05, momentum: 0.9);
        for (int step = 0; step < 3; step++)
        {
            trained.TrainStep(x, labels);
        }

        using var file = new MemoryStream();
        trained.Save(file);
        byte[] bytes = file.ToArray();

        var restored = new TinyResNet(seed: 99, maxBatchSize: Batch);
        restored.Load(new MemoryStream(bytes));
        Assert.Equal(trained.Parameters.ToArray(), restored.Parameters.ToArray());
        Assert.Equal(trained.Buffers.ToArray(), restored.Buffers.ToArray());   // running statistics
        float[] expected = new float[Batch * 3], actual = new float[Batch * 3];
        trained.Predict(x, expected);
        restored.Predict(x, actual);
        Assert.Equal(expected, actual);

        // The counters (num_batches_tracked) come back too: a fresh model's safetensors differ from the restored one's.
        using var a = new MemoryStream();
        using var b = new MemoryStream();
        trained.SaveSafetensors(a);
        restored.SaveSafetensors(b);
        Assert.Equal(a.ToArray(), b.ToArray());

        var other = new TinyResNet(seed: 11, maxBatchSize: Batch);
        float[] before = other.Parameters.ToArray();
        void Rejected(byte[] data, string words)
        {
            var error = Assert.Throws<InvalidDataException>(() => other.Load(new MemoryStream(data)));
            Assert.Contains(words, error.Message);
            Assert.Equal(before, other.Parameters.ToArray());
        }

        Rejected(bytes[..^1], "truncated");
        byte[] flipped = (byte[])bytes.Clone();
        flipped[bytes.Length / 2] ^= 1;
        Rejected(flipped, "checksum");
        using var mlp = new MemoryStream();
        new SkipMlp(maxBatchSize: 2).Save(mlp);
        Rejected(mlp.ToArray(), "architecture");
        Rejected(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13 }, "not a StaticGrad model file");

        string path = Path.Combine(Path.GetTempPath(), $"staticgrad-{Guid.NewGuid():N}.sgrm");
        try
        {
            trained.Save(path);
            var fromFile = new TinyResNet(maxBatchSize: Batch);
            fromFile.Load(path);
            Assert.Equal(trained.Parameters.ToArray(), fromFile.Parameters.ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ExportOnnx_ThroughTheInterface_WritesFloat_AndRejectsDouble()
    {
        var model = new SkipMlp(seed: 1, maxBatchSize: 2);
        INetwork<float> network = model;
        using var direct = new MemoryStream();
        using var viaInterface = new MemoryStream();
        model.ExportOnnx(direct);
        network.ExportOnnx(viaInterface, ElementType.Float);
        Assert.Equal(direct.ToArray(), viaInterface.ToArray());
        var error = Assert.Throws<ArgumentException>(() => network.ExportOnnx(new MemoryStream(), ElementType.Double));
        Assert.Equal("elementType", error.ParamName);
        Assert.Equal(SkipMlp.Description, network.Description);
        Assert.Equal(SkipMlp.InputSize, network.InputSize);
    }
}
