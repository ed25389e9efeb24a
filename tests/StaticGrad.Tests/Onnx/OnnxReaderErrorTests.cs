using System;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Text;
using StaticGrad.Generators.Onnx;
using Xunit;

namespace StaticGrad.Tests.Onnx;

/// <summary>
/// The wire format's corners (packed and unpacked repeated fields, unknown fields of every wire type, 64-bit values,
/// negative int32s) and every error the reader and the graph checks report, with the message each gives.
/// </summary>
public sealed class OnnxReaderErrorTests
{
    private static OnnxModel Read(OnnxWire model)
    {
        OnnxResult<OnnxModel> result = OnnxReader.Read(model.ToArray());
        Assert.True(result.IsSuccess, result.Error?.Message);
        return result.Value!;
    }

    private static OnnxError Fails(byte[] bytes, OnnxErrorKind kind, params string[] fragments)
    {
        OnnxResult<OnnxModel> result = OnnxReader.Read(bytes);
        Assert.False(result.IsSuccess, "expected an error");
        OnnxError error = result.Error!;
        Assert.True(kind == error.Kind, $"{error.Kind}: {error.Message}");
        foreach (string fragment in fragments)
        {
            Assert.Contains(fragment, error.Message, StringComparison.Ordinal);
        }

        return error;
    }

    private static OnnxWire WithInitializer(OnnxWire tensor) => OnnxWire.Model(new OnnxWire()
        .Message(1, OnnxWire.Node("n", "Relu", new[] { "t" }, new[] { "y" }))
        .Message(5, tensor)
        .Message(12, OnnxWire.ValueInfo("y", 2)));

    [Fact]
    public void SmallGraph_ReadsEveryField()
    {
        OnnxModel model = Read(OnnxWire.Model(OnnxWire.SmallGraph(), opset: 17, irVersion: 9));
        Assert.Equal(9, model.IrVersion);
        Assert.Equal("test", model.ProducerName);
        Assert.Equal(17, OnnxGraphCheck.DefaultOpset(model).Value);
        OnnxGraph graph = model.Graph;
        Assert.Equal("small", graph.Name);
        Assert.Equal(new[] { "fc", "act" }, graph.Nodes.Select(n => n.Name));
        Assert.Equal(OnnxAttributeType.Int, graph.Nodes[0].Attribute("transB")!.Type);
        Assert.Equal(Enumerable.Range(1, 12).Select(i => (float)i), graph.Initializers[0].DecodeFloats().Value!);
        Assert.Equal("batch", graph.Inputs[0].Shape[0].Param);
        Assert.Equal(4, graph.Inputs[0].Shape[1].Value);
    }

    [Fact]
    public void PackedAndUnpackedRepeatedScalars_AndUnknownFields_ReadAlike()
    {
        var tensorUnpacked = new OnnxWire().UnknownFields().Varint(1, 2).Varint(1, 2).Varint(2, 1).String(8, "a")
            .Fixed32(4, 1).Fixed32(4, -2).UnknownFields().Fixed32(4, 3.5f).Fixed32(4, 4);
        var tensorPacked = new OnnxWire().PackedVarints(1, 2, 2).Varint(2, 1).String(8, "b").PackedFloats(4, 1, -2).PackedFloats(4, 3.5f, 4);
        var int64s = new OnnxWire().Varint(1, 3).Varint(2, 7).String(8, "c").Varint(7, -1).PackedVarints(7, long.MaxValue, long.MinValue);
        var int32s = new OnnxWire().Varint(1, 3).Varint(2, 6).String(8, "d").Varint(5, -5).PackedVarints(5, int.MaxValue, int.MinValue);
        var doubles = new OnnxWire().Varint(1, 2).Varint(2, 11).String(8, "e").Fixed64(10, 0.25).PackedDoubles(10, -1e300);
        var attributes = new[]
        {
            new OnnxWire().UnknownFields().String(1, "ints").Varint(20, 7).Varint(8, 1).PackedVarints(8, -2, 3),
            new OnnxWire().String(1, "floats").Varint(20, 6).Fixed32(7, 0.5f).PackedFloats(7, 1.5f, 2.5f),
            new OnnxWire().String(1, "strings").Varint(20, 8).String(9, "x").String(9, "ÿ"),
            new OnnxWire().String(1, "untyped").Fixed32(2, 3f), // IR version 1 files leave the type out
            new OnnxWire().String(1, "s").Varint(20, 3).String(4, "NOTSET"),
        };
        var graph = new OnnxWire().UnknownFields()
            .Message(1, OnnxWire.Node("n", "Concat", new[] { "a", "b" }, new[] { "y" }, attributes).UnknownFields())
            .Message(5, tensorUnpacked).Message(5, tensorPacked).Message(5, int64s).Message(5, int32s).Message(5, doubles)
            .Message(12, OnnxWire.ValueInfo("y", 4, 2));
        OnnxModel model = Read(OnnxWire.Model(graph).UnknownFields());
        OnnxTensor[] tensors = model.Graph.Initializers.ToArray();
        Assert.Equal(tensors[0].Dims.ToArray(), tensors[1].Dims.ToArray());
        Assert.Equal(new float[] { 1, -2, 3.5f, 4 }, tensors[0].DecodeFloats().Value!);
        Assert.Equal(new float[] { 1, -2, 3.5f, 4 }, tensors[1].DecodeFloats().Value!);
        Assert.Equal(new[] { -1, long.MaxValue, long.MinValue }, tensors[2].DecodeInt64s().Value!);
        Assert.Equal(new[] { -5, int.MaxValue, int.MinValue }, tensors[3].DecodeInt32s().Value!);
        Assert.Equal(new long[] { -5, int.MaxValue, int.MinValue }, tensors[3].DecodeIntegers().Value!);
        Assert.Equal(new[] { 0.25, -1e300 }, tensors[4].DecodeDoubles().Value!);
        OnnxNode node = model.Graph.Nodes[0];
        Assert.Equal(new long[] { 1, -2, 3 }, node.Attribute("ints")!.Ints);
        Assert.Equal(new[] { 0.5f, 1.5f, 2.5f }, node.Attribute("floats")!.Floats);
        Assert.Equal(new[] { "x", "ÿ" }, node.Attribute("strings")!.Strings);
        Assert.Equal(OnnxAttributeType.Float, node.Attribute("untyped")!.Type);
        Assert.Equal("NOTSET", node.Attribute("s")!.S);
    }

    [Fact]
    public void NotOnnx_EmptyTextOrImage()
    {
        Fails(Array.Empty<byte>(), OnnxErrorKind.NotOnnx, "not an ONNX model: the file is empty");
        Fails(Encoding.UTF8.GetBytes("{\"this\": \"is json, not a model\"}"), OnnxErrorKind.NotOnnx, "not an ONNX model");
        Fails(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D }, OnnxErrorKind.NotOnnx, "not an ONNX model");
        Fails(new OnnxWire().Varint(1, 8).String(2, "pytorch").ToArray(), OnnxErrorKind.NotOnnx, "it has no graph (field 7 of ModelProto)");
    }

    [Fact]
    public void Truncated_NamesTheFieldTheLengthAndWhatRemains()
    {
        byte[] bytes = OnnxWire.Model(OnnxWire.SmallGraph()).ToArray();
        OnnxError error = Fails(bytes[..(bytes.Length / 2)], OnnxErrorKind.Truncated, "the file is truncated: field 7 (graph) of ModelProto declares", "bytes but", "remain");
        Assert.True(error.ByteOffset > 0);

        // A declared length of 2^60 in a graph: nothing of that size is allocated.
        byte[] huge = new OnnxWire().Varint(1, 8).Tag(7, 2).RawVarint(1UL << 60).Raw(0, 0, 0).ToArray();
        Fails(huge, OnnxErrorKind.Truncated, "declares 1,152,921,504,606,846,976 bytes but 3 remain");
    }

    [Fact]
    public void NestedLengthPastItsMessage_IsCorrupt_NotTruncated()
    {
        var graph = new OnnxWire().Tag(1, 2).RawVarint(100).Raw(1, 2, 3); // a node that claims 100 bytes in a graph of 5
        byte[] bytes = new OnnxWire().Varint(1, 8).Message(7, graph).Message(8, new OnnxWire().Varint(2, 13)).ToArray();
        Fails(bytes, OnnxErrorKind.Corrupt, "the file is corrupt: field 1 (node) of GraphProto declares 100 bytes but 3 remain", "in graph");
    }

    [Fact]
    public void WireErrors_AreCorrupt()
    {
        byte[] group = new OnnxWire().Varint(1, 8).Tag(7, 3).ToArray();
        Fails(group, OnnxErrorKind.Corrupt, "wire type 3 (a group, which ONNX never writes)");
        byte[] wrongWire = new OnnxWire().Varint(1, 8).Varint(7, 5).ToArray();
        Fails(wrongWire, OnnxErrorKind.Corrupt, "field 7 (graph) of ModelProto has wire type 0 (varint), expected 2 (length-delimited)");
        byte[] longVarint = new OnnxWire().Varint(1, 8).Tag(1000, 0).Raw(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01).ToArray();
        Fails(longVarint, OnnxErrorKind.Corrupt, "varint of more than ten bytes");
        byte[] fieldZero = new OnnxWire().Varint(1, 8).Raw(0x02, 0x00).ToArray();
        Fails(fieldZero, OnnxErrorKind.Corrupt, "field numbered 0");
        byte[] oddPacked = WithInitializer(new OnnxWire().Varint(1, 1).Varint(2, 1).String(8, "t").Bytes(4, new byte[] { 1, 2, 3 })).ToArray();
        Fails(oddPacked, OnnxErrorKind.Corrupt, "packed field 4 (float_data) of TensorProto has 3 bytes, not a multiple of 4");
        byte[] openVarint = WithInitializer(new OnnxWire().Varint(1, 1).Varint(2, 7).String(8, "t").Bytes(7, new byte[] { 0x80 })).ToArray();
        Fails(openVarint, OnnxErrorKind.Corrupt, "packed field 7 (int64_data) of TensorProto ends inside a varint");
    }

    [Fact]
    public void TensorErrors_NameTheTensor()
    {
        Fails(WithInitializer(OnnxWire.FloatTensor("fc1.weight", new long[] { 1 << 20, 1 << 20 }, new float[] { 1 })).ToArray(),
            OnnxErrorKind.TooLarge, "tensor 'fc1.weight' has 2^40 elements, more than an array holds");
        Fails(WithInitializer(OnnxWire.FloatTensor("big", new long[] { 1 << 29, 2 }, new float[] { 1 })).ToArray(),
            OnnxErrorKind.TooLarge, "tensor 'big' has 2^30 FLOAT elements (2^32 bytes), more than an array holds (2 GB)");
        Fails(WithInitializer(OnnxWire.FloatTensor("huge", new long[] { long.MaxValue, long.MaxValue }, new float[] { 1 })).ToArray(),
            OnnxErrorKind.TooLarge, "tensor 'huge' has more than 2^64 elements");
        Fails(WithInitializer(OnnxWire.FloatTensor("w", new long[] { 3, 4 }, new float[] { 1, 2 })).ToArray(),
            OnnxErrorKind.Corrupt, "tensor 'w' declares 12 FLOAT elements (48 bytes) but its raw_data holds 8 bytes");
        Fails(WithInitializer(OnnxWire.FloatTensor("w", new long[] { 2, -3 }, new float[] { 1 })).ToArray(),
            OnnxErrorKind.Corrupt, "tensor 'w' has a negative dimension (-3) in [2, -3]");
        Fails(WithInitializer(new OnnxWire().Varint(1, 1 << 28).Varint(2, 1).String(8, "w").PackedFloats(4, 1)).ToArray(),
            OnnxErrorKind.Corrupt, "tensor 'w' declares 268,435,456 FLOAT elements but float_data holds 1");
        Fails(WithInitializer(new OnnxWire().Varint(1, 4).Varint(2, 1).String(8, "w")).ToArray(),
            OnnxErrorKind.Corrupt, "tensor 'w' has dims [4] (4 elements) but no values");
        Fails(WithInitializer(new OnnxWire().Varint(1, 1).Varint(2, 1).String(8, "w").PackedVarints(7, 1)).ToArray(),
            OnnxErrorKind.Corrupt, "tensor 'w' is FLOAT but has values in int64_data");
        Fails(WithInitializer(new OnnxWire().Varint(1, 1).String(8, "w").PackedFloats(4, 1)).ToArray(),
            OnnxErrorKind.Corrupt, "tensor 'w' has no data_type");
    }

    [Fact]
    public void ExternalData_NamesTheFileItIsIn()
    {
        var tensor = new OnnxWire().Varint(1, 4).Varint(2, 1).String(8, "x")
            .Message(13, new OnnxWire().String(1, "location").String(2, "weights.bin"))
            .Message(13, new OnnxWire().String(1, "offset").String(2, "0"))
            .Varint(14, 1);
        Fails(WithInitializer(tensor).ToArray(), OnnxErrorKind.ExternalData, "external data is not supported: tensor 'x' is stored in 'weights.bin'");
    }

    [Fact]
    public void AttributeTensorProblem_NamesTheNode()
    {
        var constant = OnnxWire.Node("/Constant", "Constant", Array.Empty<string>(), new[] { "c" },
            new OnnxWire().String(1, "value").Varint(20, 4).Message(5, new OnnxWire().Varint(1, 2).Varint(2, 7).PackedVarints(7, 1)));
        Fails(OnnxWire.Model(new OnnxWire().Message(1, constant)).ToArray(), OnnxErrorKind.Corrupt,
            "an unnamed tensor declares 2 INT64 elements but int64_data holds 1, in attribute 'value' of node '/Constant' (Constant)");
    }

    [Fact]
    public void SubgraphsAndSparseInitializers_AreUnsupported()
    {
        var branch = new OnnxWire().String(1, "then_branch").Varint(20, 5).Message(6, OnnxWire.SmallGraph());
        var node = OnnxWire.Node("if", "If", new[] { "c" }, new[] { "y" }, branch);
        Fails(OnnxWire.Model(new OnnxWire().Message(1, node)).ToArray(), OnnxErrorKind.Unsupported,
            "attribute 'then_branch' of node 'if' (If) holds a graph");
        Fails(OnnxWire.Model(new OnnxWire().Message(15, new OnnxWire())).ToArray(), OnnxErrorKind.Unsupported, "sparse initializers are not supported");
    }

    [Fact]
    public void Decode_OfAnotherType_SaysWhichTypes()
    {
        OnnxModel model = Read(WithInitializer(new OnnxWire().Varint(1, 2).Varint(2, 3).String(8, "q").PackedVarints(5, 1, -1)));
        OnnxTensor tensor = model.Graph.Initializers[0];
        Assert.Equal("tensor 'q' holds INT8 values; StaticGrad reads FLOAT, DOUBLE, INT64 and INT32 tensors", tensor.DecodeFloats().Error!.Message);
        Assert.Equal(OnnxErrorKind.Unsupported, tensor.DecodeInt32s().Error!.Kind);
        OnnxTensor floats = Read(OnnxWire.Model(OnnxWire.SmallGraph())).Graph.Initializers[0];
        Assert.Equal("tensor 'w' holds FLOAT values, not INT64", floats.DecodeInt64s().Error!.Message);
    }

    /// <summary>
    /// Deep nesting where onnx.proto allows it (a sequence of a sequence of … in a TypeProto, graphs in graph attributes)
    /// is skipped, not walked: 100,000 levels cost one length check each and no stack.
    /// </summary>
    [Fact]
    public void DeepNesting_IsSkipped_NotWalked()
    {
        // Built from the inside out by lengths alone (wrapping message by message would copy quadratically).
        byte[] core = new OnnxWire().Message(1, new OnnxWire().Varint(1, 1)).ToArray();
        var prefixes = new System.Collections.Generic.List<byte[]>();
        long length = core.Length;
        for (int i = 0; i < 100_000; i++)
        {
            byte[] element = new OnnxWire().Tag(1, 2).RawVarint((ulong)length).ToArray(); // Sequence.elem_type
            length += element.Length;
            byte[] sequence = new OnnxWire().Tag(4, 2).RawVarint((ulong)length).ToArray(); // TypeProto.sequence_type
            length += sequence.Length;
            prefixes.Add(element);
            prefixes.Add(sequence);
        }

        prefixes.Reverse();
        var type = new OnnxWire().Raw(prefixes.SelectMany(p => p).Concat(core).ToArray());
        var graph = new OnnxWire().Message(11, new OnnxWire().String(1, "x").Message(2, type)).Message(12, OnnxWire.ValueInfo("x", 1))
            .Message(1, OnnxWire.Node("id", "Identity", new[] { "x" }, new[] { "y" }));
        OnnxModel model = Read(OnnxWire.Model(graph));
        Assert.Equal(OnnxTypeKind.Other, model.Graph.Inputs[0].Kind);
    }

    [Fact]
    public void GraphChecks_FindCyclesUndefinedAndDuplicateValues()
    {
        OnnxGraph Graph(params OnnxWire[] nodes)
        {
            var graph = new OnnxWire().Message(11, OnnxWire.ValueInfo("x", 2));
            foreach (OnnxWire node in nodes)
            {
                graph.Message(1, node);
            }

            return Read(OnnxWire.Model(graph.Message(12, OnnxWire.ValueInfo("y", 2)))).Graph;
        }

        OnnxError Check(OnnxGraph graph, OnnxErrorKind kind)
        {
            OnnxResult<ImmutableArray<OnnxNode>> order = OnnxGraphCheck.TopologicalOrder(graph);
            Assert.False(order.IsSuccess);
            Assert.Equal(kind, order.Error!.Kind);
            return order.Error;
        }

        OnnxGraph cycle = Graph(
            OnnxWire.Node("a", "Add", new[] { "x", "c" }, new[] { "b" }),
            OnnxWire.Node("b", "Relu", new[] { "b" }, new[] { "c" }),
            OnnxWire.Node("y", "Identity", new[] { "c" }, new[] { "y" }));
        Assert.Equal("the graph has a cycle through node 'a' (Add): 'a' → 'b' → 'a'", Check(cycle, OnnxErrorKind.Cycle).Message);
        OnnxGraph self = Graph(OnnxWire.Node("s", "Relu", new[] { "y" }, new[] { "y" }));
        Assert.Equal("the graph has a cycle through node 's' (Relu): 's' → 's'", Check(self, OnnxErrorKind.Cycle).Message);

        OnnxGraph missing = Graph(OnnxWire.Node("fc", "Gemm", new[] { "x", "fc.weight" }, new[] { "y" }));
        Assert.Equal("node 'fc' (Gemm) reads 'fc.weight' (input 1), which no graph input, initializer or node output defines (a missing initializer?)", Check(missing, OnnxErrorKind.UndefinedValue).Message);

        OnnxGraph twice = Graph(OnnxWire.Node("", "Relu", new[] { "x" }, new[] { "y" }), OnnxWire.Node("", "Tanh", new[] { "x" }, new[] { "y" }));
        Assert.Equal("the value 'y' is defined twice: by node #0 (Relu) and by node #1 (Tanh)", Check(twice, OnnxErrorKind.DuplicateValue).Message);

        OnnxGraph noOutput = Graph(OnnxWire.Node("r", "Relu", new[] { "x" }, new[] { "z" }));
        Assert.Contains("the graph output 'y'", Check(noOutput, OnnxErrorKind.UndefinedValue).Message, StringComparison.Ordinal);

        // Out of order is reordered; "" is an omitted optional input.
        OnnxGraph unsorted = Graph(
            OnnxWire.Node("second", "Clip", new[] { "h", "", "" }, new[] { "y" }),
            OnnxWire.Node("first", "Relu", new[] { "x" }, new[] { "h" }));
        Assert.Equal(new[] { "first", "second" }, OnnxGraphCheck.TopologicalOrder(unsorted).Value.Select(n => n.Name));
    }

    [Fact]
    public void DefaultOpset_IsRequired_AndUnique()
    {
        OnnxModel Model(params (string Domain, long Version)[] imports)
        {
            var model = new OnnxWire().Varint(1, 8).Message(7, new OnnxWire().String(2, "g"));
            foreach ((string domain, long version) in imports)
            {
                model.Message(8, new OnnxWire().String(1, domain).Varint(2, version));
            }

            return Read(model);
        }

        Assert.Equal(13, OnnxGraphCheck.DefaultOpset(Model(("com.microsoft", 1), ("ai.onnx", 13))).Value);
        Assert.Equal("the model imports no opset for the default domain (ai.onnx): it imports only com.microsoft 1", OnnxGraphCheck.DefaultOpset(Model(("com.microsoft", 1))).Error!.Message);
        Assert.Equal("the model imports no opset for the default domain (ai.onnx): it imports no opset at all", OnnxGraphCheck.DefaultOpset(Model()).Error!.Message);
        Assert.Equal(OnnxErrorKind.MissingOpset, OnnxGraphCheck.DefaultOpset(Model(("", 13), ("ai.onnx", 17))).Error!.Kind);
    }

    /// <summary>
    /// Every prefix of a PyTorch file: never an exception, and either an error or (cut after the graph, before the opset
    /// import) the whole graph. The allocation bound holds for each.
    /// </summary>
    [Theory]
    [InlineData("cnn.opset13")]
    [InlineData("residual.opset17")]
    public void EveryPrefix_GivesAnErrorOrTheWholeGraph(string name)
    {
        byte[] bytes = File.ReadAllBytes(OnnxReaderGoldenTests.GoldenPath(name + ".onnx"));
        OnnxGraph full = OnnxReader.Read(bytes).Value!.Graph;
        int successes = 0;
        for (int length = 0; length < bytes.Length; length++)
        {
            byte[] prefix = bytes[..length];
            OnnxResult<OnnxModel> result = OnnxReaderFuzzTests.ReadBounded(prefix);
            if (result.IsSuccess)
            {
                successes++;
                OnnxGraph graph = result.Value!.Graph;
                Assert.Equal(full.Nodes.Select(n => n.Name), graph.Nodes.Select(n => n.Name));
                Assert.Equal(full.Initializers.Select(n => n.Name), graph.Initializers.Select(n => n.Name));
                Assert.False(OnnxGraphCheck.DefaultOpset(result.Value).IsSuccess); // the opset import comes last
            }
            else
            {
                Assert.Contains(result.Error!.Kind, new[] { OnnxErrorKind.NotOnnx, OnnxErrorKind.Truncated });
            }
        }

        Assert.InRange(successes, 1, 3);
    }
}
