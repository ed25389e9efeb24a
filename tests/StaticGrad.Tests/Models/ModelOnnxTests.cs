using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using StaticGrad.Interchange;
using StaticGrad.Tests.Interchange;
using Xunit;
using static StaticGrad.Functional;

namespace StaticGrad.Tests.Models;

/// <summary>
/// What the golden models and EveryOpNet leave out and the ONNX export must still get right: operands of different rank
/// per example (the batch axes must line up: 4×5×5 + 5, 5 − 4×5×5, 4×5×5 · 5×1), BatchNorm1d on C×L, Linear on a
/// rank-3 value without bias, the tanh GELU, a Reshape with −1, and Dropout as the last op (its Identity is the output).
/// </summary>
[Model(Loss = Loss.MeanSquaredError)]
public partial class OnnxCornerNet
{
    readonly Conv2d conv = new(3, 4, 3, padding: 1, bias: false);
    readonly BatchNorm1d norm = new(4);
    readonly Linear rows = new(5, 5, bias: false);
    readonly Linear cols = new(5, 2);
    readonly Dropout drop = new(0.5);

    public Tensor Forward([Shape(3, 5, 5)] Tensor x, [Shape(5)] Tensor w)
    {
        var h = conv.Forward(x) + w;                            // 4×5×5 + 5
        var s = norm.Forward(h.Reshape(4, -1));                 // BatchNorm1d on 4×25
        var t = w - rows.Forward(s.Reshape(4, 5, 5));           // 5 − 4×5×5
        var u = Gelu(t, approximate: "tanh") * Sigmoid(w.Reshape(5, 1)); // 4×5×5 · 5×1
        return drop.Forward(cols.Forward(u).Transpose(0, 2));  // 4×5×2 → 2×5×4
    }
}

/// <summary>One module called twice: its parameters are one pair of initializers read by both nodes.</summary>
[Model]
public partial class OnnxSharedNet
{
    readonly Linear fc = new(4, 4);

    public Tensor Forward([Shape(4)] Tensor x) => Relu(fc.Forward(Tanh(fc.Forward(x))));
}

/// <summary>
/// ExportOnnx of generated models: after a few training steps (so running statistics are not their initial 0 and 1), the
/// file runs in ONNX Runtime and gives Predict's outputs within 1e-5 (absolute plus relative), for one and for three
/// examples, at the default opset and at both ends of the supported range; it follows ONNX's structural rules; and bad
/// arguments throw naming the argument.
/// </summary>
public sealed class ModelOnnxTests
{
    private const double Tolerance = 1e-5;

    public static TheoryData<string, int> ModelsAndBatches()
    {
        var data = new TheoryData<string, int>();
        foreach (string model in new[] { nameof(TinyResNet), nameof(SkipMlp), nameof(TwoInputNet), nameof(EveryOpNet), nameof(OnnxCornerNet), nameof(GruOneLayer), nameof(GruTwoLayers), nameof(LstmTwoLayers), nameof(LstmOverLinear), nameof(GruForecaster) })
        {
            data.Add(model, 1);
            data.Add(model, 3);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ModelsAndBatches))]
    public void TrainedModel_RunsInOnnxRuntime_LikePredict(string model, int batch)
    {
        Trained trained = Train(model, batch);
        float[] actual = RunInOnnxRuntime(trained.Export(OnnxGraphExport.DefaultOpset), trained, batch);
        AssertClose(trained.Expected, actual, model);
    }

    [Theory]
    [InlineData(nameof(EveryOpNet), 13)]
    [InlineData(nameof(EveryOpNet), 21)]
    [InlineData(nameof(SkipMlp), 13)]
    [InlineData(nameof(SkipMlp), 16)]
    [InlineData(nameof(OnnxCornerNet), 13)]
    [InlineData(nameof(TinyResNet), 21)]
    [InlineData(nameof(GruTwoLayers), 13)]
    [InlineData(nameof(LstmOverLinear), 13)]
    [InlineData(nameof(GruForecaster), 21)]
    public void OtherOpsets_RunInOnnxRuntime_LikePredict(string model, int opset)
    {
        Trained trained = Train(model, 3);
        byte[] file = trained.Export(opset);
        Assert.Equal(opset, new ProtobufMessage(file).Messages(8).Single().Int(2));
        AssertClose(trained.Expected, RunInOnnxRuntime(file, trained, 3), $"{model} at opset {opset}");
    }

    [Fact]
    public void ASharedModule_IsOnePairOfInitializers_AndRunsInOnnxRuntime()
    {
        var random = new Random(4);
        var shared = new OnnxSharedNet(seed: 3);
        float[] x = Floats(random, 3 * OnnxSharedNet.InputSize), expected = new float[3 * OnnxSharedNet.OutputSize];
        shared.Predict(x, expected);
        var trained = new Trained(shared, OnnxSharedNet.OnnxGraph, OnnxSharedNet.Description, OnnxSharedNet.State, (s, o) => shared.ExportOnnx(s, o), new[] { x }, expected);
        byte[] file = trained.Export(17);
        Assert.Equal(new[] { "fc.bias", "fc.weight" }, new ProtobufMessage(file).Message(7).Messages(5).Select(t => t.String(8)).OrderBy(n => n, StringComparer.Ordinal));
        Assert.Equal(2, new ProtobufMessage(file).Message(7).Messages(1).Count(n => n.String(4) == "Gemm"));
        AssertClose(expected, RunInOnnxRuntime(file, trained, 3), "OnnxSharedNet");
    }

    [Fact]
    public void ThroughAFile_RunsInOnnxRuntime_LikePredict()
    {
        string path = Path.Combine(Path.GetTempPath(), "staticgrad-model-" + Guid.NewGuid().ToString("N")[..8] + ".onnx");
        try
        {
            Trained trained = Train(nameof(TinyResNet), 3);
            ((TinyResNet)trained.Model).ExportOnnx(path);
            AssertClose(trained.Expected, RunInOnnxRuntime(File.ReadAllBytes(path), trained, 3), "TinyResNet through a file");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Inputs_AreForwardsParameters_WithASymbolicBatch()
    {
        var model = new EveryOpNet(seed: 1);
        var stream = new MemoryStream();
        model.ExportOnnx(stream);
        ProtobufMessage graph = new ProtobufMessage(stream.ToArray()).Message(7);
        Assert.Equal(new[] { "x", "side" }, graph.Messages(11).Select(i => i.String(1)));
        Assert.Equal(new[] { "batch:2:9:9", "batch:6" }, graph.Messages(11).Select(Shape));
        ProtobufMessage output = Assert.Single(graph.Messages(12));
        Assert.Equal("output", output.String(1));
        Assert.Equal("batch:3", Shape(output));

        static string Shape(ProtobufMessage valueInfo) => string.Join(":", valueInfo.Message(2).Message(1).Message(2).Messages(1)
            .Select(d => d.Has(2) ? d.String(2) : d.Int(1).ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Theory]
    [InlineData(13)]
    [InlineData(17)]
    [InlineData(21)]
    public void ExportedGraph_FollowsOnnxStructuralRules(int opset)
    {
        foreach (string name in new[] { nameof(EveryOpNet), nameof(OnnxCornerNet), nameof(TinyResNet), nameof(GruTwoLayers), nameof(LstmOverLinear) })
        {
            Trained trained = Train(name, 1);
            var model = new ProtobufMessage(trained.Export(opset));
            Assert.Equal(OnnxGraphExport.IrVersionFor(opset), model.Int(1));
            ProtobufMessage opsetImport = Assert.Single(model.Messages(8));
            Assert.Equal(string.Empty, opsetImport.Has(1) ? opsetImport.String(1) : string.Empty);
            ProtobufMessage graph = model.Message(7);

            var defined = new HashSet<string>(graph.Messages(11).Select(i => i.String(1)));
            var initializers = graph.Messages(5).ToDictionary(t => t.String(8));
            foreach ((string tensor, ProtobufMessage initializer) in initializers)
            {
                Assert.True(defined.Add(tensor), $"{name}: '{tensor}' is defined twice");
                Assert.Equal(initializer.Ints(1).Aggregate(1L, (a, d) => a * d) * (initializer.Int(2) == 7 ? 8 : 4), initializer.Bytes(9).Length);
            }

            // The state tensors are the initializers under their state_dict names: every parameter and running statistic (a
            // counter such as num_batches_tracked is not read by the forward pass), each with its PyTorch shape.
            string[] state = trained.Description.Tensors.Concat(trained.State.Buffers).Select(t => t.Name).OrderBy(n => n, StringComparer.Ordinal).ToArray();
            Assert.Equal(state, initializers.Keys.Where(k => !k.StartsWith('/')).OrderBy(n => n, StringComparer.Ordinal));
            foreach (ParameterTensor tensor in trained.Description.Tensors.Concat(trained.State.Buffers))
            {
                Assert.Equal(tensor.Shape.ToArray().Select(d => (long)d), initializers[tensor.Name].Ints(1));
                Assert.Equal(1, initializers[tensor.Name].Int(2));
            }

            var nodeNames = new HashSet<string>();
            var read = new HashSet<string>();
            foreach (ProtobufMessage node in graph.Messages(1))
            {
                Assert.True(nodeNames.Add(node.String(3)), $"{name}: node names are unique ({node.String(3)})");
                foreach (string input in node.Strings(1))
                {
                    Assert.True(defined.Contains(input), $"{name}: node {node.String(3)} reads '{input}' before anything defines it");
                    read.Add(input);
                }

                foreach (string output in node.Strings(2))
                {
                    Assert.True(defined.Add(output), $"{name}: '{output}' is written twice");
                }
            }

            Assert.Contains("output", defined);
            Assert.All(initializers.Keys, k => Assert.Contains(k, read)); // no initializer of the other opsets' nodes
            string[] operators = graph.Messages(1).Select(n => n.String(4)).ToArray();
            if (name == nameof(EveryOpNet))
            {
                Assert.Equal(opset >= 17, operators.Contains("LayerNormalization"));
                Assert.Equal(opset < 17, operators.Contains("ReduceMean"));
            }

            Assert.DoesNotContain("Dropout", operators);
        }
    }

    [Fact]
    public void ExportReadsTheCurrentState()
    {
        Trained trained = Train(nameof(EveryOpNet), 3);
        byte[] before = trained.Export(17);
        var model = (EveryOpNet)trained.Model;
        model.Buffers[0] += 1; // bn.running_mean[0]
        byte[] after = trained.Export(17);
        Assert.NotEqual(before, after);
        float[] expected = new float[3 * EveryOpNet.OutputSize];
        model.Predict(trained.Inputs[0], trained.Inputs[1], expected);
        AssertClose(expected, RunInOnnxRuntime(after, trained, 3), "EveryOpNet after a buffer changed");
        Assert.Contains(expected.Zip(trained.Expected), pair => Math.Abs(pair.First - pair.Second) > 1e-3); // the change matters
    }

    [Fact]
    public void BadArguments_Throw_NamingTheArgument()
    {
        var model = new SkipMlp(seed: 2);
        Assert.Equal("path", Assert.Throws<ArgumentNullException>(() => model.ExportOnnx((string)null!)).ParamName);
        Assert.Equal("stream", Assert.Throws<ArgumentNullException>(() => model.ExportOnnx((Stream)null!)).ParamName);
        foreach (int opset in new[] { 0, 12, 22, -17 })
        {
            var stream = new MemoryStream();
            Assert.Equal("opset", Assert.Throws<ArgumentOutOfRangeException>(() => model.ExportOnnx(stream, opset)).ParamName);
            Assert.Equal(0, stream.Length);
        }

        string path = Path.Combine(Path.GetTempPath(), "staticgrad-model-" + Guid.NewGuid().ToString("N")[..8] + ".onnx");
        Assert.Equal("opset", Assert.Throws<ArgumentOutOfRangeException>(() => model.ExportOnnx(path, 12)).ParamName);
        Assert.False(File.Exists(path));
        Assert.Equal("opset", Assert.Throws<ArgumentOutOfRangeException>(() => OnnxGraphExport.IrVersionFor(22)).ParamName);
        Assert.Equal("buffers", Assert.Throws<ArgumentException>(() => OnnxGraphExport.Save(new MemoryStream(), TinyResNet.OnnxGraph, new float[TinyResNet.ParameterCount], new float[TinyResNet.BufferCount - 1])).ParamName);
        Assert.Equal("graph", Assert.Throws<ArgumentNullException>(() => OnnxGraphExport.Save(new MemoryStream(), null!, default(ReadOnlySpan<float>), default)).ParamName);
    }

    // ---- the models, trained a little ----

    /// <summary>A model after three Adam steps on random data, the inputs of a batch, and Predict's outputs for them.</summary>
    private sealed record Trained(object Model, OnnxGraph Graph, NetworkDescription Description, StateDescription State, Action<Stream, int> Write, float[][] Inputs, float[] Expected)
    {
        public byte[] Export(int opset)
        {
            var stream = new MemoryStream();
            Write(stream, opset);
            return stream.ToArray();
        }
    }

    private static Trained Train(string name, int batch)
    {
        var random = new Random((name.Length * 1000) + batch);
        const int TrainBatch = 4;
        switch (name)
        {
            case nameof(TinyResNet):
            {
                var model = new TinyResNet(seed: 5);
                model.UseAdam(1e-2);
                for (int step = 0; step < 3; step++)
                {
                    model.TrainStep(Floats(random, TrainBatch * TinyResNet.InputSize), Labels(random, TrainBatch, TinyResNet.OutputSize));
                }

                AssertStatisticsMoved(model.Buffers);
                float[] x = Floats(random, batch * TinyResNet.InputSize), expected = new float[batch * TinyResNet.OutputSize];
                model.Predict(x, expected);
                return new(model, TinyResNet.OnnxGraph, TinyResNet.Description, TinyResNet.State, (s, o) => model.ExportOnnx(s, o), new[] { x }, expected);
            }

            case nameof(SkipMlp):
            {
                var model = new SkipMlp(seed: 6);
                model.UseAdam(1e-2);
                for (int step = 0; step < 3; step++)
                {
                    model.TrainStep(Floats(random, TrainBatch * SkipMlp.InputSize), Labels(random, TrainBatch, SkipMlp.OutputSize));
                }

                float[] x = Floats(random, batch * SkipMlp.InputSize), expected = new float[batch * SkipMlp.OutputSize];
                model.Predict(x, expected);
                return new(model, SkipMlp.OnnxGraph, SkipMlp.Description, SkipMlp.State, (s, o) => model.ExportOnnx(s, o), new[] { x }, expected);
            }

            case nameof(TwoInputNet):
            {
                var model = new TwoInputNet(seed: 7);
                model.UseAdam(1e-2);
                for (int step = 0; step < 3; step++)
                {
                    model.TrainStep(Floats(random, TrainBatch * TwoInputNet.XSize), Floats(random, TrainBatch * TwoInputNet.YSize), Floats(random, TrainBatch * TwoInputNet.OutputSize));
                }

                float[] x = Floats(random, batch * TwoInputNet.XSize), y = Floats(random, batch * TwoInputNet.YSize), expected = new float[batch * TwoInputNet.OutputSize];
                model.Predict(x, y, expected);
                return new(model, TwoInputNet.OnnxGraph, TwoInputNet.Description, TwoInputNet.State, (s, o) => model.ExportOnnx(s, o), new[] { x, y }, expected);
            }

            case nameof(EveryOpNet):
            {
                var model = new EveryOpNet(seed: 8);
                model.UseAdam(1e-2);
                for (int step = 0; step < 3; step++)
                {
                    model.TrainStep(Floats(random, TrainBatch * EveryOpNet.XSize), Floats(random, TrainBatch * EveryOpNet.SideSize), Floats(random, TrainBatch * EveryOpNet.OutputSize));
                }

                AssertStatisticsMoved(model.Buffers);
                float[] x = Floats(random, batch * EveryOpNet.XSize), side = Floats(random, batch * EveryOpNet.SideSize), expected = new float[batch * EveryOpNet.OutputSize];
                model.Predict(x, side, expected);
                return new(model, EveryOpNet.OnnxGraph, EveryOpNet.Description, EveryOpNet.State, (s, o) => model.ExportOnnx(s, o), new[] { x, side }, expected);
            }

            case nameof(OnnxCornerNet):
            {
                var model = new OnnxCornerNet(seed: 9);
                model.UseAdam(1e-2);
                for (int step = 0; step < 3; step++)
                {
                    model.TrainStep(Floats(random, TrainBatch * OnnxCornerNet.XSize), Floats(random, TrainBatch * OnnxCornerNet.WSize), Floats(random, TrainBatch * OnnxCornerNet.OutputSize));
                }

                AssertStatisticsMoved(model.Buffers);
                float[] x = Floats(random, batch * OnnxCornerNet.XSize), w = Floats(random, batch * OnnxCornerNet.WSize), expected = new float[batch * OnnxCornerNet.OutputSize];
                model.Predict(x, w, expected);
                return new(model, OnnxCornerNet.OnnxGraph, OnnxCornerNet.Description, OnnxCornerNet.State, (s, o) => model.ExportOnnx(s, o), new[] { x, w }, expected);
            }

            case nameof(GruTwoLayers):
            {
                var model = new GruTwoLayers(seed: 10);
                model.UseAdam(1e-2);
                model.TrainStep(Floats(random, TrainBatch * GruTwoLayers.InputSize), Floats(random, TrainBatch * GruTwoLayers.OutputSize));
                float[] x = Floats(random, batch * GruTwoLayers.InputSize), expected = new float[batch * GruTwoLayers.OutputSize];
                model.Predict(x, expected);
                return new(model, GruTwoLayers.OnnxGraph, GruTwoLayers.Description, GruTwoLayers.State, (s, o) => model.ExportOnnx(s, o), new[] { x }, expected);
            }

            case nameof(GruOneLayer):
            {
                var model = new GruOneLayer(seed: 11);
                float[] x = Floats(random, batch * GruOneLayer.InputSize), expected = new float[batch * GruOneLayer.OutputSize];
                model.Predict(x, expected);
                return new(model, GruOneLayer.OnnxGraph, GruOneLayer.Description, GruOneLayer.State, (s, o) => model.ExportOnnx(s, o), new[] { x }, expected);
            }

            case nameof(LstmOverLinear):
            {
                var model = new LstmOverLinear(seed: 12);
                model.UseAdam(1e-2);
                model.TrainStep(Floats(random, TrainBatch * LstmOverLinear.InputSize), Floats(random, TrainBatch * LstmOverLinear.OutputSize));
                float[] x = Floats(random, batch * LstmOverLinear.InputSize), expected = new float[batch * LstmOverLinear.OutputSize];
                model.Predict(x, expected);
                return new(model, LstmOverLinear.OnnxGraph, LstmOverLinear.Description, LstmOverLinear.State, (s, o) => model.ExportOnnx(s, o), new[] { x }, expected);
            }

            case nameof(LstmTwoLayers):
            {
                var model = new LstmTwoLayers(seed: 13);
                float[] x = Floats(random, batch * LstmTwoLayers.InputSize), expected = new float[batch * LstmTwoLayers.OutputSize];
                model.Predict(x, expected);
                return new(model, LstmTwoLayers.OnnxGraph, LstmTwoLayers.Description, LstmTwoLayers.State, (s, o) => model.ExportOnnx(s, o), new[] { x }, expected);
            }

            case nameof(GruForecaster):
            {
                var model = new GruForecaster(seed: 14);
                float[] x = Floats(random, batch * GruForecaster.InputSize), expected = new float[batch * GruForecaster.OutputSize];
                model.Predict(x, expected);
                return new(model, GruForecaster.OnnxGraph, GruForecaster.Description, GruForecaster.State, (s, o) => model.ExportOnnx(s, o), new[] { x }, expected);
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(name), name, "Not a model of these tests.");
        }
    }

    /// <summary>Running means start at 0 and variances at 1: after training, some must be neither, or the test would not see BatchNorm read them.</summary>
    private static void AssertStatisticsMoved(Span<float> buffers) =>
        Assert.True(buffers.ToArray().Count(v => v != 0 && v != 1) > buffers.Length / 2, "the running statistics moved");

    private static float[] RunInOnnxRuntime(byte[] file, Trained trained, int batch)
    {
        using var session = new InferenceSession(file);
        var feeds = trained.Graph.Inputs
            .Select((input, i) => NamedOnnxValue.CreateFromTensor(input.Name, new DenseTensor<float>(trained.Inputs[i], new[] { batch }.Concat(input.Shape).ToArray())))
            .ToList();
        using var results = session.Run(feeds);
        DisposableNamedOnnxValue output = Assert.Single(results);
        Assert.Equal("output", output.Name);
        Tensor<float> tensor = output.AsTensor<float>();
        Assert.Equal(new[] { batch }.Concat(trained.Graph.Output.Shape), tensor.Dimensions.ToArray());
        return tensor.ToArray();
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs((double)expected[i] - actual[i]);
            if (!(error <= Tolerance + (Tolerance * Math.Abs(expected[i]))))
            {
                Assert.Fail($"{what}: value {i} is {actual[i]:R} in ONNX Runtime, {expected[i]:R} in StaticGrad (error {error:E2}).");
            }
        }
    }

    private static float[] Floats(Random random, int count) => Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();

    private static int[] Labels(Random random, int count, int classes) => Enumerable.Range(0, count).Select(_ => random.Next(classes)).ToArray();
}
