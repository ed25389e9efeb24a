using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using StaticGrad.Generators.Onnx;
using StaticGrad.Tests.Interchange;
using StaticGrad.Tests.Models;
using Xunit;
using OnnxAttribute = StaticGrad.Generators.Onnx.OnnxAttribute;
using OnnxNode = StaticGrad.Generators.Onnx.OnnxNode;

namespace StaticGrad.Tests.Onnx;

/// <summary>
/// The reader against files it did not write: PyTorch 1.13's exports (Onnx/Golden, written by make_onnx_fixtures.py) compared
/// with the JSON summary the onnx package made of each, and StaticGrad's own ExportOnnx output compared with the tests'
/// independent protobuf decoder.
/// </summary>
public sealed class OnnxReaderGoldenTests
{
    internal static readonly string[] FixtureNames = { "mlp.opset13", "mlp.opset17", "cnn.opset13", "cnn.opset17", "residual.opset13", "residual.opset17", "ops.opset17", "embed.opset17", "gpt.opset17" };

    public static TheoryData<string> Fixtures() => new(FixtureNames);

    internal static string GoldenPath(string file) => Path.Combine(AppContext.BaseDirectory, "Onnx", "Golden", file);

    internal static OnnxModel ReadFixture(string name)
    {
        OnnxResult<OnnxModel> result = OnnxReader.Read(File.ReadAllBytes(GoldenPath(name + ".onnx")));
        Assert.True(result.IsSuccess, result.Error?.Message);
        return result.Value!;
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void PyTorchExport_MatchesTheOnnxPackagesSummary(string name)
    {
        OnnxModel model = ReadFixture(name);
        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(GoldenPath(name + ".json")));
        JsonElement root = json.RootElement;

        Assert.Equal(root.GetProperty("ir_version").GetInt64(), model.IrVersion);
        Assert.Equal("pytorch", model.ProducerName);
        Assert.Equal(
            root.GetProperty("opset_import").EnumerateArray().Select(o => (o.GetProperty("domain").GetString(), o.GetProperty("version").GetInt64())),
            model.OpsetImports.Select(o => ((string?)o.Domain, o.Version)));
        Assert.Equal(name.EndsWith("13", StringComparison.Ordinal) ? 13 : 17, OnnxGraphCheck.DefaultOpset(model).Value);

        OnnxGraph graph = model.Graph;
        JsonElement[] nodes = root.GetProperty("nodes").EnumerateArray().ToArray();
        Assert.Equal(root.GetProperty("ops").EnumerateArray().Select(o => o.GetString()), graph.Nodes.Select(n => n.OpType));
        Assert.Equal(nodes.Length, graph.Nodes.Length);
        for (int i = 0; i < nodes.Length; i++)
        {
            OnnxNode node = graph.Nodes[i];
            Assert.Equal(i, node.Index);
            Assert.Equal(nodes[i].GetProperty("name").GetString(), node.Name);
            Assert.Equal(Strings(nodes[i].GetProperty("inputs")), node.Inputs.ToArray());
            Assert.Equal(Strings(nodes[i].GetProperty("outputs")), node.Outputs.ToArray());
            Assert.Equal("", node.Domain);
            JsonElement[] attributes = nodes[i].GetProperty("attributes").EnumerateArray().ToArray();
            Assert.Equal(attributes.Select(a => a.GetProperty("name").GetString()), node.Attributes.Select(a => a.Name));
            for (int a = 0; a < attributes.Length; a++)
            {
                AssertAttribute(attributes[a], node.Attributes[a], node.Describe());
            }
        }

        AssertValueInfos(root.GetProperty("inputs"), graph.Inputs);
        AssertValueInfos(root.GetProperty("outputs"), graph.Outputs);

        JsonElement[] initializers = root.GetProperty("initializers").EnumerateArray().ToArray();
        Assert.Equal(initializers.Select(t => t.GetProperty("name").GetString()), graph.Initializers.Select(t => t.Name));
        for (int i = 0; i < initializers.Length; i++)
        {
            OnnxTensor tensor = graph.Initializers[i];
            Assert.Equal(initializers[i].GetProperty("data_type").GetInt32(), tensor.DataType);
            Assert.Equal(initializers[i].GetProperty("dims").EnumerateArray().Select(d => d.GetInt64()), tensor.Dims);
            float[] values = tensor.DecodeFloats().Value!;
            Assert.Equal(tensor.Dims.Aggregate(1L, (a, b) => a * b), values.Length);
            double expected = initializers[i].GetProperty("sum").GetDouble();
            double sum = values.Sum(v => (double)v), scale = values.Sum(v => Math.Abs((double)v)) + 1;
            Assert.True(Math.Abs(sum - expected) <= 1e-12 * scale, $"{tensor.Name}: sum {sum} against {expected}");
        }

        JsonElement sample = root.GetProperty("sample");
        OnnxTensor sampled = graph.Initializers.Single(t => t.Name == sample.GetProperty("name").GetString());
        Assert.Equal(sample.GetProperty("values").EnumerateArray().Select(v => (float)v.GetDouble()), sampled.DecodeFloats().Value!);

        // PyTorch writes its nodes in an order the check accepts as it is.
        OnnxResult<System.Collections.Immutable.ImmutableArray<OnnxNode>> order = OnnxGraphCheck.TopologicalOrder(graph);
        Assert.True(order.IsSuccess, order.Error?.Message);
        Assert.Equal(graph.Nodes.ToArray(), order.Value.ToArray());
    }

    [Fact]
    public void Mlp_HasFc1Weight_32By64_AndGemmsWithTransB()
    {
        OnnxGraph graph = ReadFixture("mlp.opset17").Graph;
        OnnxTensor fc1 = graph.Initializers.Single(t => t.Name == "fc1.weight");
        Assert.Equal(new long[] { 32, 64 }, fc1.Dims);
        Assert.Equal(32 * 64, fc1.ElementCount);
        Assert.Equal(new[] { "Gemm", "Relu", "Gemm" }, graph.Nodes.Select(n => n.OpType));
        Assert.All(graph.Nodes.Where(n => n.OpType == "Gemm"), n => Assert.Equal(1, n.Attribute("transB")!.I));
        Assert.Equal("batch", graph.Inputs[0].Shape[0].Param);
        Assert.False(graph.Inputs[0].IsStatic);
        Assert.Equal(64, graph.Inputs[0].Shape[1].Value);
    }

    /// <summary>
    /// PyTorch writes <c>h.view(h.size(0), -1)</c> as Shape → Gather(index 0) → Unsqueeze(axes [0]) → Concat with [-1] →
    /// Reshape: the importer folds that chain to a static reshape. At opset 13 Unsqueeze takes its axes as an input.
    /// </summary>
    [Theory]
    [InlineData("cnn.opset13")]
    [InlineData("cnn.opset17")]
    public void Cnn_ViewIsAShapeGatherUnsqueezeConcatReshapeChain(string name)
    {
        OnnxGraph graph = ReadFixture(name).Graph;
        Dictionary<string, OnnxNode> producer = graph.Nodes.SelectMany(n => n.Outputs.Select(o => (o, n))).ToDictionary(p => p.o, p => p.n);
        OnnxNode reshape = graph.Nodes.Single(n => n.OpType == "Reshape");
        Assert.Equal("MaxPool", producer[reshape.Inputs[0]].OpType);
        OnnxNode concat = producer[reshape.Inputs[1]];
        Assert.Equal("Concat", concat.OpType);
        Assert.Equal(0, concat.Attribute("axis")!.I);
        OnnxNode unsqueeze = producer[concat.Inputs[0]];
        Assert.Equal("Unsqueeze", unsqueeze.OpType);
        Assert.Equal(new long[] { 0 }, ConstantValue(producer[unsqueeze.Inputs[1]]));
        OnnxNode gather = producer[unsqueeze.Inputs[0]];
        Assert.Equal("Gather", gather.OpType);
        Assert.Equal("Shape", producer[gather.Inputs[0]].OpType);
        Assert.Equal("MaxPool", producer[producer[gather.Inputs[0]].Inputs[0]].OpType);
        OnnxTensor index = producer[gather.Inputs[1]].Attribute("value")!.T!;
        Assert.Empty(index.Dims); // a scalar index: Gather drops the axis
        Assert.Equal(new long[] { 0 }, index.DecodeInt64s().Value);
        Assert.Equal(new long[] { -1 }, ConstantValue(producer[concat.Inputs[1]]));

        OnnxNode batchNorm = graph.Nodes.Single(n => n.OpType == "BatchNormalization");
        Assert.Equal(new[] { "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var" }, batchNorm.Inputs.Skip(1));
        Assert.Equal(1e-5f, batchNorm.Attribute("epsilon")!.F);
        Assert.Equal(OnnxAttributeType.Float, batchNorm.Attribute("epsilon")!.Type);
        OnnxNode conv = graph.Nodes.Single(n => n.OpType == "Conv");
        Assert.Equal(new long[] { 1, 1, 1, 1 }, conv.Attribute("pads")!.Ints);
        Assert.Equal(OnnxAttributeType.Ints, conv.Attribute("pads")!.Type);
    }

    /// <summary>PyTorch deduplicates equal initializers: bn2's weight and bias are Identity nodes of bn1's.</summary>
    [Fact]
    public void Residual_HasAnAddOfTheInput_AndIdentitiesForDeduplicatedInitializers()
    {
        OnnxGraph graph = ReadFixture("residual.opset17").Graph;
        OnnxNode add = graph.Nodes.Single(n => n.OpType == "Add");
        Assert.Contains("input", add.Inputs);
        Assert.Equal(new[] { "bn2.bias", "bn2.weight" }, graph.Nodes.Where(n => n.OpType == "Identity").SelectMany(n => n.Outputs));
        Assert.DoesNotContain(graph.Initializers, t => t.Name == "bn2.weight");
        Assert.Equal(new long[] { 3, 3, 3, 3 }, graph.Initializers.Single(t => t.Name == "conv1.weight").Dims);
    }

    public static TheoryData<string> OwnModels() => new() { nameof(EveryOpNet), nameof(TinyResNet), nameof(OnnxCornerNet) };

    /// <summary>StaticGrad's own ExportOnnx output, read back, agrees with the tests' independent protobuf decoder.</summary>
    [Theory]
    [MemberData(nameof(OwnModels))]
    public void OwnExport_ReadsBack(string name)
    {
        var stream = new MemoryStream();
        switch (name)
        {
            case nameof(EveryOpNet):
                new EveryOpNet(seed: 1).ExportOnnx(stream);
                break;
            case nameof(TinyResNet):
                new TinyResNet(seed: 2).ExportOnnx(stream);
                break;
            default:
                new OnnxCornerNet(seed: 3).ExportOnnx(stream);
                break;
        }

        byte[] bytes = stream.ToArray();
        OnnxResult<OnnxModel> result = OnnxReader.Read(bytes);
        Assert.True(result.IsSuccess, result.Error?.Message);
        OnnxModel model = result.Value!;
        var expected = new ProtobufMessage(bytes);
        ProtobufMessage graph = expected.Message(7);
        Assert.Equal(expected.Int(1), model.IrVersion);
        Assert.Equal(StaticGrad.Interchange.OnnxGraphExport.DefaultOpset, OnnxGraphCheck.DefaultOpset(model).Value);
        Assert.Equal(graph.Messages(1).Select(n => n.String(4)), model.Graph.Nodes.Select(n => n.OpType));
        Assert.Equal(graph.Messages(1).Select(n => n.Strings(1).ToArray()), model.Graph.Nodes.Select(n => n.Inputs.ToArray()));
        Assert.Equal(graph.Messages(11).Select(i => i.String(1)), model.Graph.Inputs.Select(i => i.Name));
        ProtobufMessage[] initializers = graph.Messages(5).ToArray();
        Assert.Equal(initializers.Select(t => t.String(8)), model.Graph.Initializers.Select(t => t.Name));
        for (int i = 0; i < initializers.Length; i++)
        {
            OnnxTensor tensor = model.Graph.Initializers[i];
            Assert.Equal(initializers[i].Ints(1), tensor.Dims);
            if (tensor.DataType == OnnxDataType.Float)
            {
                byte[] raw = initializers[i].Bytes(9);
                float[] values = new float[raw.Length / 4];
                Buffer.BlockCopy(raw, 0, values, 0, raw.Length);
                Assert.Equal(values, tensor.DecodeFloats().Value!);
            }
            else
            {
                Assert.Equal(OnnxDataType.Int64, tensor.DataType);
                Assert.Equal(tensor.ElementCount, tensor.DecodeInt64s().Value!.Length);
            }
        }

        Assert.True(OnnxGraphCheck.TopologicalOrder(model.Graph).IsSuccess);
    }

    private static long[] ConstantValue(OnnxNode constant)
    {
        Assert.Equal("Constant", constant.OpType);
        return constant.Attribute("value")!.T!.DecodeIntegers().Value!;
    }

    private static string[] Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToArray();

    private static void AssertValueInfos(JsonElement expected, System.Collections.Immutable.ImmutableArray<OnnxValueInfo> actual)
    {
        JsonElement[] infos = expected.EnumerateArray().ToArray();
        Assert.Equal(infos.Length, actual.Length);
        for (int i = 0; i < infos.Length; i++)
        {
            Assert.Equal(infos[i].GetProperty("name").GetString(), actual[i].Name);
            Assert.Equal(OnnxTypeKind.Tensor, actual[i].Kind);
            Assert.Equal(infos[i].GetProperty("elem_type").GetInt32(), actual[i].ElementType);
            Assert.Equal(
                infos[i].GetProperty("dims").EnumerateArray().Select(d => d.ValueKind == JsonValueKind.String ? d.GetString() : d.GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture)),
                actual[i].Shape.Select(d => d.ToString()));
        }
    }

    private static void AssertAttribute(JsonElement expected, OnnxAttribute actual, string node)
    {
        int type = expected.GetProperty("type").GetInt32();
        Assert.Equal(type, (int)actual.Type);
        JsonElement value = expected.GetProperty("value");
        switch ((OnnxAttributeType)type)
        {
            case OnnxAttributeType.Float:
                Assert.Equal((float)value.GetDouble(), actual.F);
                break;
            case OnnxAttributeType.Int:
                Assert.Equal(value.GetInt64(), actual.I);
                break;
            case OnnxAttributeType.String:
                Assert.Equal(value.GetString(), actual.S);
                break;
            case OnnxAttributeType.Ints:
                Assert.Equal(value.EnumerateArray().Select(v => v.GetInt64()), actual.Ints);
                break;
            case OnnxAttributeType.Floats:
                Assert.Equal(value.EnumerateArray().Select(v => (float)v.GetDouble()), actual.Floats);
                break;
            case OnnxAttributeType.Tensor:
                OnnxTensor tensor = actual.T!;
                Assert.Equal(value.GetProperty("data_type").GetInt32(), tensor.DataType);
                Assert.Equal(value.GetProperty("dims").EnumerateArray().Select(d => d.GetInt64()), tensor.Dims);
                double[] values = tensor.DataType == OnnxDataType.Float
                    ? tensor.DecodeFloats().Value!.Select(v => (double)v).ToArray()
                    : tensor.DecodeIntegers().Value!.Select(v => (double)v).ToArray();
                Assert.Equal(value.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()), values);
                break;
            default:
                Assert.Fail($"{node}: attribute type {type} not expected in the fixtures");
                break;
        }
    }
}
