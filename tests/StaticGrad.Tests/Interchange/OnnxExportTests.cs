using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using StaticGrad.Interchange;
using StaticGrad.Tests.Networks;
using Xunit;

namespace StaticGrad.Tests.Interchange;

/// <summary>
/// ExportOnnx: the files run in ONNX Runtime and agree with Forward (generated networks) or with a plain-loop reference
/// (random architectures through <see cref="OnnxExport"/>), and follow ONNX's structural rules.
/// </summary>
public sealed class OnnxExportTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(64)]
    public void EveryLayerFloat_RunsInOnnxRuntime_LikeForward(int batch)
    {
        var net = new EveryLayerFloat(seed: 11);
        var stream = new MemoryStream();
        net.ExportOnnx(stream);
        float[] inputs = RandomFloats(new Random(batch), batch * EveryLayerFloat.InputSize);
        float[] expected = new float[batch * EveryLayerFloat.OutputSize];
        net.Forward(inputs, expected);

        float[] actual = Run(stream.ToArray(), inputs, batch, EveryLayerFloat.InputSize);

        AssertClose(expected.Select(v => (double)v).ToArray(), actual.Select(v => (double)v).ToArray(), relative: 1e-5, absolute: 1e-6);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(64)]
    public void EveryLayerDouble_RunsInOnnxRuntime_LikeForward(int batch)
    {
        var net = new EveryLayerDouble(seed: 12);
        var stream = new MemoryStream();
        net.ExportOnnx(stream);
        double[] inputs = RandomDoubles(new Random(batch), batch * EveryLayerDouble.InputSize);
        double[] expected = new double[batch * EveryLayerDouble.OutputSize];
        net.Forward(inputs, expected);

        double[] actual = Run(stream.ToArray(), inputs, batch, EveryLayerDouble.InputSize);

        AssertClose(expected, actual, relative: 1e-12, absolute: 1e-14);
    }

    [Fact]
    public void DigitNetFloat_ThroughAFile_RunsInOnnxRuntime_LikeForward()
    {
        string path = Path.Combine(Path.GetTempPath(), "staticgrad-" + Guid.NewGuid().ToString("N")[..8] + ".onnx");
        try
        {
            var net = new DigitNetFloat(seed: 13);
            net.ExportOnnx(path);
            float[] inputs = RandomFloats(new Random(5), 32 * DigitNetFloat.InputSize);
            float[] expected = new float[32 * DigitNetFloat.OutputSize];
            net.Forward(inputs, expected);

            float[] actual = Run(File.ReadAllBytes(path), inputs, 32, DigitNetFloat.InputSize);

            AssertClose(expected.Select(v => (double)v).ToArray(), actual.Select(v => (double)v).ToArray(), relative: 1e-5, absolute: 1e-6);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void RandomArchitectures_RunInOnnxRuntime_LikeAPlainLoopReference()
    {
        var random = new Random(20261126);
        for (int trial = 0; trial < 24; trial++)
        {
            bool isDouble = trial % 2 == 1;
            NetworkDescription network = RandomNetwork(random);
            double[] parameters = RandomParameters(random, network);
            int batch = random.Next(1, 9);
            double[] inputs = RandomDoubles(random, batch * network.InputSize);
            var stream = new MemoryStream();
            double[] actual;
            double[] expected;
            if (isDouble)
            {
                OnnxExport.Save(stream, network, parameters);
                expected = Reference(network, parameters, inputs, batch);
                actual = Run(stream.ToArray(), inputs, batch, network.InputSize);
                AssertClose(expected, actual, relative: 1e-12, absolute: 1e-14, network.Architecture);
            }
            else
            {
                float[] floatParameters = parameters.Select(v => (float)v).ToArray();
                float[] floatInputs = inputs.Select(v => (float)v).ToArray();
                OnnxExport.Save(stream, network, floatParameters);
                expected = Reference(network, floatParameters.Select(v => (double)v).ToArray(), floatInputs.Select(v => (double)v).ToArray(), batch);
                actual = Run(stream.ToArray(), floatInputs, batch, network.InputSize).Select(v => (double)v).ToArray();
                AssertClose(expected, actual, relative: 1e-5, absolute: 1e-6, network.Architecture);
            }

            CheckStructure(stream.ToArray(), network, isDouble ? 11 : 1);
        }
    }

    [Fact]
    public void ExportedModel_FollowsOnnxStructuralRules()
    {
        var net = new EveryLayerFloat(seed: 14);
        var stream = new MemoryStream();
        net.ExportOnnx(stream);
        CheckStructure(stream.ToArray(), EveryLayerFloat.Description, elementType: 1);

        var model = new ProtobufMessage(stream.ToArray());
        ProtobufMessage graph = model.Message(7);
        // Gemm nodes carry transB = 1 (an INT attribute) and name the initializers PyTorch's way.
        ProtobufMessage[] gemms = graph.Messages(1).Where(n => n.String(4) == "Gemm").ToArray();
        Assert.Equal(4, gemms.Length);
        Assert.Equal(new[] { "/3/output", "4.weight" }, gemms[2].Strings(1)); // Linear(6, 5, Bias = false): no C input
        foreach (ProtobufMessage gemm in gemms)
        {
            ProtobufMessage attribute = Assert.Single(gemm.Messages(5));
            Assert.Equal("transB", attribute.String(1));
            Assert.Equal(1, attribute.Int(3));
            Assert.Equal(2, attribute.Int(20));
        }

        Assert.Equal(new[] { "Gemm", "Relu", "Gemm", "Sigmoid", "Gemm", "Tanh", "Gemm" }, graph.Messages(1).Select(n => n.String(4)));
        // Initializer data is the parameters, little-endian.
        ProtobufMessage bias = graph.Messages(5).Single(t => t.String(8) == "2.bias");
        Assert.Equal(net.Layer2Bias.ToArray(), Enumerable.Range(0, 6).Select(i => BitConverter.ToSingle(bias.Bytes(9), i * 4)));
    }

    public static TheoryData<string> ImageNetworks => new() { nameof(TinyCnn), nameof(StridedCnn), nameof(PointwiseCnn), nameof(ConvOnly), nameof(PoolFirst) };

    [Theory]
    [MemberData(nameof(ImageNetworks))]
    public void ImageNetworks_RunInOnnxRuntime_LikeForward(string name)
    {
        StaticGrad.INetwork<double> net = name switch
        {
            nameof(TinyCnn) => new TinyCnn(seed: 21),
            nameof(StridedCnn) => new StridedCnn(seed: 21),
            nameof(PointwiseCnn) => new PointwiseCnn(seed: 21),
            nameof(ConvOnly) => new ConvOnly(seed: 21),
            _ => new PoolFirst(seed: 21),
        };
        // ONNX Runtime's CPU provider has no double Conv, so these double networks are exported with their parameters in
        // float (through OnnxExport, as their ExportOnnx would in a float network) and compared with Forward in double on
        // the same float-rounded parameters and inputs. The double export itself is checked for structure.
        var doubleExport = new MemoryStream();
        net.ExportOnnx(doubleExport);
        CheckStructure(doubleExport.ToArray(), net.Description, elementType: 11);

        Span<double> parameters = net.Parameters;
        for (int i = 0; i < parameters.Length; i++)
        {
            parameters[i] = (float)parameters[i];
        }

        var floatExport = new MemoryStream();
        OnnxExport.Save(floatExport, net.Description, net.Parameters.ToArray().Select(v => (float)v).ToArray());
        CheckStructure(floatExport.ToArray(), net.Description, elementType: 1);
        const int Batch = 3;
        float[] inputs = RandomFloats(new Random(21), Batch * net.InputSize);
        double[] expected = new double[Batch * net.OutputSize];
        net.Forward(inputs.Select(v => (double)v).ToArray(), expected);

        float[] actual = Run(floatExport.ToArray(), inputs, Batch, net.InputSize);

        AssertClose(expected, actual.Select(v => (double)v).ToArray(), relative: 1e-5, absolute: 1e-5, name);
    }

    [Theory]
    [MemberData(nameof(ImageNetworks))]
    public void DoubleImageNetworks_ExportedAsFloat_RunInOnnxRuntime_LikeForward(string name)
    {
        StaticGrad.INetwork<double> net = name switch
        {
            nameof(TinyCnn) => new TinyCnn(seed: 23),
            nameof(StridedCnn) => new StridedCnn(seed: 23),
            nameof(PointwiseCnn) => new PointwiseCnn(seed: 23),
            nameof(ConvOnly) => new ConvOnly(seed: 23),
            _ => new PoolFirst(seed: 23),
        };
        // The generated ExportOnnx(stream, ElementType.Float) on the network's own double parameters (not rounded first):
        // ONNX Runtime computes in float on rounded weights, Forward in double, so they agree within float tolerance.
        var stream = new MemoryStream();
        net.ExportOnnx(stream, ElementType.Float);
        CheckStructure(stream.ToArray(), net.Description, elementType: 1);
        const int Batch = 5;
        float[] inputs = RandomFloats(new Random(23), Batch * net.InputSize);
        double[] expected = new double[Batch * net.OutputSize];
        net.Forward(inputs.Select(v => (double)v).ToArray(), expected);

        float[] actual = Run(stream.ToArray(), inputs, Batch, net.InputSize);

        AssertClose(expected, actual.Select(v => (double)v).ToArray(), relative: 1e-4, absolute: 1e-5, name);
    }

    [Fact]
    public void DoubleCnn_ExportedAsDouble_IsRefusedByOnnxRuntime_AndAsFloat_Runs()
    {
        // Why the option exists: the CPU provider has no double Conv. If a later ONNX Runtime gains one, this test says so.
        var net = new TinyCnn(seed: 24);
        var asDouble = new MemoryStream();
        net.ExportOnnx(asDouble, ElementType.Double);
        var plain = new MemoryStream();
        net.ExportOnnx(plain);
        Assert.Equal(plain.ToArray(), asDouble.ToArray());
        Assert.ThrowsAny<OnnxRuntimeException>(() => Run(asDouble.ToArray(), new double[TinyCnn.InputSize], 1, TinyCnn.InputSize));

        var asFloat = new MemoryStream();
        net.ExportOnnx(asFloat, ElementType.Float);
        float[] inputs = RandomFloats(new Random(24), 2 * TinyCnn.InputSize);
        double[] expected = new double[2 * TinyCnn.OutputSize];
        net.Forward(inputs.Select(v => (double)v).ToArray(), expected);
        AssertClose(expected, Run(asFloat.ToArray(), inputs, 2, TinyCnn.InputSize).Select(v => (double)v).ToArray(), relative: 1e-4, absolute: 1e-5);
    }

    [Fact]
    public void FloatNetwork_ExportedAsDouble_RunsInOnnxRuntime_LikeForward_AndAsFloat_IsTheDefaultFile()
    {
        var net = new EveryLayerFloat(seed: 25);
        var plain = new MemoryStream();
        net.ExportOnnx(plain);
        var asFloat = new MemoryStream();
        net.ExportOnnx(asFloat, ElementType.Float);
        Assert.Equal(plain.ToArray(), asFloat.ToArray());

        var asDouble = new MemoryStream();
        net.ExportOnnx(asDouble, ElementType.Double);
        CheckStructure(asDouble.ToArray(), EveryLayerFloat.Description, elementType: 11);
        float[] inputs = RandomFloats(new Random(25), 6 * EveryLayerFloat.InputSize);
        float[] expected = new float[6 * EveryLayerFloat.OutputSize];
        net.Forward(inputs, expected);
        double[] actual = Run(asDouble.ToArray(), inputs.Select(v => (double)v).ToArray(), 6, EveryLayerFloat.InputSize);
        AssertClose(expected.Select(v => (double)v).ToArray(), actual, relative: 1e-5, absolute: 1e-6);
    }

    [Fact]
    public void ExportOnnx_ThroughAFile_AsFloat_WritesTheSameBytesAsTheStream()
    {
        string path = Path.Combine(Path.GetTempPath(), "staticgrad-" + Guid.NewGuid().ToString("N")[..8] + ".onnx");
        try
        {
            var net = new TinyCnn(seed: 26);
            net.ExportOnnx(path, ElementType.Float);
            var stream = new MemoryStream();
            net.ExportOnnx(stream, ElementType.Float);
            Assert.Equal(stream.ToArray(), File.ReadAllBytes(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ExportOnnx_AnUndefinedElementType_IsNamed_AndWritesNothing()
    {
        var net = new TinyCnn(seed: 27);
        var stream = new MemoryStream();
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => net.ExportOnnx(stream, (ElementType)5));
        Assert.Equal("elementType", error.ParamName);
        Assert.Equal(0, stream.Length);
        var floatError = Assert.Throws<ArgumentOutOfRangeException>(() => new EveryLayerFloat().ExportOnnx(stream, (ElementType)0));
        Assert.Equal("elementType", floatError.ParamName);
    }

    [Fact]
    public void FashionCnn_RunsInOnnxRuntime_LikeForward()
    {
        var net = new FashionCnnFloat(seed: 22, maxBatchSize: 4);
        var stream = new MemoryStream();
        net.ExportOnnx(stream);
        float[] inputs = RandomFloats(new Random(22), 4 * FashionCnnFloat.InputSize);
        float[] expected = new float[4 * FashionCnnFloat.OutputSize];
        net.Forward(inputs, expected);

        float[] actual = Run(stream.ToArray(), inputs, 4, FashionCnnFloat.InputSize);

        AssertClose(expected.Select(v => (double)v).ToArray(), actual.Select(v => (double)v).ToArray(), relative: 1e-5, absolute: 1e-5);
        var graph = new ProtobufMessage(stream.ToArray()).Message(7);
        Assert.Equal(
            new[] { "Reshape", "Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Flatten", "Gemm", "Relu", "Gemm" }, // Dropout left out
            graph.Messages(1).Select(n => n.String(4)));
    }

    [Fact]
    public void NullArguments_AreNamed()
    {
        var net = new EveryLayerFloat(seed: 1);
        Assert.Equal("path", Assert.Throws<ArgumentNullException>(() => net.ExportOnnx((string)null!)).ParamName);
        Assert.Equal("stream", Assert.Throws<ArgumentNullException>(() => net.ExportOnnx((Stream)null!)).ParamName);
        Assert.Equal("parameters", Assert.Throws<ArgumentException>(() => OnnxExport.Save(new MemoryStream(), EveryLayerFloat.Description, new float[3])).ParamName);
    }

    /// <summary>What onnx.checker checks of a model's structure, for the parts we write (field numbers from onnx.proto).</summary>
    private static void CheckStructure(byte[] file, NetworkDescription network, int elementType)
    {
        var model = new ProtobufMessage(file);
        Assert.Equal(OnnxExport.IrVersion, model.Int(1));
        ProtobufMessage opset = Assert.Single(model.Messages(8));
        Assert.Equal(string.Empty, opset.Has(1) ? opset.String(1) : string.Empty);
        Assert.Equal(OnnxExport.OpsetVersion, opset.Int(2));

        ProtobufMessage graph = model.Message(7);
        Assert.False(string.IsNullOrEmpty(graph.String(2)));
        var defined = new HashSet<string>();
        foreach (ProtobufMessage input in graph.Messages(11))
        {
            Assert.True(defined.Add(input.String(1)));
            CheckValueInfo(input, elementType, network.InputSize);
        }

        Assert.Equal(new[] { "input" }, defined);
        var initializers = graph.Messages(5).ToDictionary(t => t.String(8));
        foreach (string constant in initializers.Keys.Where(k => k.StartsWith('/')))
        {
            Assert.True(defined.Add(constant)); // the Reshape of an image network's input rows: [-1, C, H, W]
        }

        Assert.Equal(network.Tensors.Select(t => t.Name).OrderBy(n => n), initializers.Keys.Where(k => !k.StartsWith('/')).OrderBy(n => n));
        foreach (ParameterTensor tensor in network.Tensors)
        {
            ProtobufMessage initializer = initializers[tensor.Name];
            Assert.Equal(tensor.Shape.ToArray().Select(d => (long)d), initializer.Ints(1));
            Assert.Equal(elementType, initializer.Int(2));
            Assert.Equal(tensor.Count * (elementType == 1 ? 4 : 8), initializer.Bytes(9).Length);
            Assert.True(defined.Add(tensor.Name));
        }

        var nodeNames = new HashSet<string>();
        foreach (ProtobufMessage node in graph.Messages(1))
        {
            Assert.True(nodeNames.Add(node.String(3)), "node names are unique");
            foreach (string input in node.Strings(1))
            {
                Assert.True(defined.Contains(input), $"node {node.String(3)} reads '{input}' before anything defines it");
            }

            foreach (string output in node.Strings(2))
            {
                Assert.True(defined.Add(output), $"'{output}' is defined twice (SSA)");
            }
        }

        ProtobufMessage graphOutput = Assert.Single(graph.Messages(12));
        Assert.Equal("output", graphOutput.String(1));
        Assert.Contains("output", defined);
        CheckValueInfo(graphOutput, elementType, network.OutputSize);
    }

    private static void CheckValueInfo(ProtobufMessage info, int elementType, int features)
    {
        ProtobufMessage tensorType = info.Message(2).Message(1);
        Assert.Equal(elementType, tensorType.Int(1));
        ProtobufMessage[] dims = tensorType.Message(2).Messages(1).ToArray();
        Assert.Equal(2, dims.Length);
        Assert.Equal("batch", dims[0].String(2));
        Assert.Equal(features, dims[1].Int(1));
    }

    private static NetworkDescription RandomNetwork(Random random)
    {
        var layers = new List<LayerDescription>();
        int features = random.Next(1, 40), offset = 0, linears = random.Next(1, 5);
        for (int l = 0; l < linears; l++)
        {
            int outputs = random.Next(1, 40);
            bool bias = random.Next(4) != 0;
            layers.Add(new LayerDescription(layers.Count, LayerOperator.Linear, features, outputs, offset, bias ? offset + (features * outputs) : -1));
            offset += (features * outputs) + (bias ? outputs : 0);
            features = outputs;
            int activation = random.Next(4);
            if (activation > 0)
            {
                layers.Add(new LayerDescription(layers.Count, (LayerOperator)activation, features, features));
            }
        }

        return new NetworkDescription("random", offset, layers.ToArray());
    }

    /// <summary>The forward pass in double with plain loops, from the description alone.</summary>
    private static double[] Reference(NetworkDescription network, double[] parameters, double[] inputs, int batch)
    {
        double[] x = inputs;
        foreach (LayerDescription layer in network.Layers)
        {
            double[] y = new double[batch * layer.Outputs];
            for (int b = 0; b < batch; b++)
            {
                for (int o = 0; o < layer.Outputs; o++)
                {
                    // An activation maps feature o to feature o (inputs = outputs); a Linear layer replaces v below.
                    double v = layer.Operator == LayerOperator.Linear ? 0 : x[(b * layer.Inputs) + o];
                    switch (layer.Operator)
                    {
                        case LayerOperator.Linear:
                            v = layer.HasBias ? parameters[layer.BiasOffset + o] : 0;
                            for (int k = 0; k < layer.Inputs; k++)
                            {
                                v += x[(b * layer.Inputs) + k] * parameters[layer.WeightOffset + (o * layer.Inputs) + k];
                            }

                            break;
                        case LayerOperator.ReLU:
                            v = Math.Max(v, 0);
                            break;
                        case LayerOperator.Sigmoid:
                            v = 1 / (1 + Math.Exp(-v));
                            break;
                        case LayerOperator.Tanh:
                            v = Math.Tanh(v);
                            break;
                    }

                    y[(b * layer.Outputs) + o] = v;
                }
            }

            x = y;
        }

        return x;
    }

    private static T[] Run<T>(byte[] model, T[] inputs, int batch, int features)
        where T : unmanaged
    {
        using var session = new InferenceSession(model);
        var tensor = new DenseTensor<T>(inputs, new[] { batch, features });
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("input", tensor) });
        DisposableNamedOnnxValue output = Assert.Single(results);
        Assert.Equal("output", output.Name);
        return output.AsEnumerable<T>().ToArray();
    }

    /// <summary>Uniform in ±1/√inputs per layer, as PyTorch initialises nn.Linear, so activations stay of order 1.</summary>
    private static double[] RandomParameters(Random random, NetworkDescription network)
    {
        double[] parameters = new double[network.ParameterCount];
        foreach (LayerDescription layer in network.Layers.Where(l => l.Operator == LayerOperator.Linear))
        {
            double bound = 1 / Math.Sqrt(layer.Inputs);
            int count = (layer.Inputs * layer.Outputs) + (layer.HasBias ? layer.Outputs : 0);
            for (int i = 0; i < count; i++)
            {
                parameters[layer.WeightOffset + i] = ((random.NextDouble() * 2) - 1) * bound;
            }
        }

        return parameters;
    }

    private static float[] RandomFloats(Random random, int count) => Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 4) - 2)).ToArray();

    private static double[] RandomDoubles(Random random, int count) => Enumerable.Range(0, count).Select(_ => (random.NextDouble() * 4) - 2).ToArray();

    private static void AssertClose(double[] expected, double[] actual, double relative, double absolute, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double tolerance = absolute + (relative * Math.Abs(expected[i]));
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"{what} output {i}: expected {expected[i]:R}, ONNX Runtime {actual[i]:R}");
        }
    }
}
