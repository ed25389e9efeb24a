using System;
using System.Collections.Generic;
using System.Text;
using StaticGrad.Interchange;

namespace StaticGrad.Tests.Onnx;

/// <summary>
/// A Protocol Buffers writer for hand-made ONNX test files, including what StaticGrad's own <see cref="ProtobufWriter"/>
/// never writes: packed repeated fields, 64-bit fields, unknown fields of every wire type, and raw bytes (bad tags,
/// lengths that lie).
/// </summary>
internal sealed class OnnxWire
{
    private readonly List<byte> _bytes = new();

    public byte[] ToArray() => _bytes.ToArray();

    public int Length => _bytes.Count;

    public OnnxWire Varint(int field, long value)
    {
        Tag(field, 0);
        RawVarint((ulong)value);
        return this;
    }

    public OnnxWire Fixed32(int field, float value)
    {
        Tag(field, 5);
        _bytes.AddRange(BitConverter.GetBytes(value));
        return this;
    }

    public OnnxWire Fixed64(int field, double value)
    {
        Tag(field, 1);
        _bytes.AddRange(BitConverter.GetBytes(value));
        return this;
    }

    public OnnxWire Bytes(int field, byte[] value)
    {
        Tag(field, 2);
        RawVarint((ulong)value.Length);
        _bytes.AddRange(value);
        return this;
    }

    public OnnxWire String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public OnnxWire Message(int field, OnnxWire message) => Bytes(field, message.ToArray());

    public OnnxWire PackedVarints(int field, params long[] values)
    {
        var packed = new OnnxWire();
        foreach (long value in values)
        {
            packed.RawVarint((ulong)value);
        }

        return Bytes(field, packed.ToArray());
    }

    public OnnxWire PackedFloats(int field, params float[] values)
    {
        var packed = new List<byte>();
        foreach (float value in values)
        {
            packed.AddRange(BitConverter.GetBytes(value));
        }

        return Bytes(field, packed.ToArray());
    }

    public OnnxWire PackedDoubles(int field, params double[] values)
    {
        var packed = new List<byte>();
        foreach (double value in values)
        {
            packed.AddRange(BitConverter.GetBytes(value));
        }

        return Bytes(field, packed.ToArray());
    }

    /// <summary>One of each wire type under field numbers onnx.proto does not use: the reader must skip them all.</summary>
    public OnnxWire UnknownFields()
    {
        Varint(1000, 123456789);
        Fixed32(1001, 1.5f);
        Fixed64(1002, 2.5);
        String(1003, "ignored");
        return this;
    }

    public OnnxWire Raw(params byte[] bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }

    public OnnxWire Tag(int field, int wire) => RawVarint(((ulong)field << 3) | (uint)wire);

    public OnnxWire RawVarint(ulong value)
    {
        while (value >= 0x80)
        {
            _bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }

        _bytes.Add((byte)value);
        return this;
    }

    // ONNX messages.

    public static OnnxWire Model(OnnxWire graph, long opset = 13, long irVersion = 8) =>
        new OnnxWire().Varint(1, irVersion).String(2, "test").Message(7, graph).Message(8, new OnnxWire().String(1, "").Varint(2, opset));

    public static OnnxWire Node(string name, string op, string[] inputs, string[] outputs, params OnnxWire[] attributes)
    {
        var node = new OnnxWire();
        foreach (string input in inputs)
        {
            node.String(1, input);
        }

        foreach (string output in outputs)
        {
            node.String(2, output);
        }

        node.String(3, name).String(4, op);
        foreach (OnnxWire attribute in attributes)
        {
            node.Message(5, attribute);
        }

        return node;
    }

    public static OnnxWire IntsAttribute(string name, params long[] values)
    {
        var attribute = new OnnxWire().String(1, name).Varint(20, 7);
        foreach (long value in values)
        {
            attribute.Varint(8, value);
        }

        return attribute;
    }

    public static OnnxWire FloatTensor(string name, long[] dims, float[] values)
    {
        var tensor = new OnnxWire();
        foreach (long dim in dims)
        {
            tensor.Varint(1, dim);
        }

        tensor.Varint(2, 1).String(8, name);
        var raw = new List<byte>();
        foreach (float value in values)
        {
            raw.AddRange(BitConverter.GetBytes(value));
        }

        return tensor.Bytes(9, raw.ToArray());
    }

    /// <summary>A ValueInfoProto of a float tensor; a string dim is a dim_param, a number a dim_value.</summary>
    public static OnnxWire ValueInfo(string name, params object[] dims)
    {
        var shape = new OnnxWire();
        foreach (object dim in dims)
        {
            shape.Message(1, dim is string param ? new OnnxWire().String(2, param) : new OnnxWire().Varint(1, Convert.ToInt64(dim)));
        }

        var tensorType = new OnnxWire().Varint(1, 1).Message(2, shape);
        return new OnnxWire().String(1, name).Message(2, new OnnxWire().Message(1, tensorType));
    }

    /// <summary>x[batch, 4] → Gemm(w[3, 4], b[3], transB) → Relu → y: a small valid model.</summary>
    public static OnnxWire SmallGraph() => new OnnxWire()
        .Message(1, Node("fc", "Gemm", new[] { "x", "w", "b" }, new[] { "h" }, new OnnxWire().String(1, "transB").Varint(20, 2).Varint(3, 1)))
        .Message(1, Node("act", "Relu", new[] { "h" }, new[] { "y" }))
        .String(2, "small")
        .Message(5, FloatTensor("w", new long[] { 3, 4 }, new float[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 }))
        .Message(5, FloatTensor("b", new long[] { 3 }, new float[] { 0.5f, -0.5f, 0 }))
        .Message(11, ValueInfo("x", "batch", 4))
        .Message(12, ValueInfo("y", "batch", 3));

    /// <summary>
    /// A model of about <paramref name="megabytes"/> MB written by StaticGrad's runtime <see cref="ProtobufWriter"/>: a chain
    /// of Gemm layers of 512 × 512 float weights (1 MB each) with biases, as PyTorch would write an MLP.
    /// </summary>
    public static byte[] LargeModel(int megabytes)
    {
        var random = new Random(megabytes);
        var graph = new ProtobufWriter();
        const int Width = 512;
        string previous = "x";
        for (int layer = 0; layer < megabytes; layer++)
        {
            var weights = new float[Width * Width];
            var bias = new float[Width];
            for (int i = 0; i < weights.Length; i++)
            {
                weights[i] = (float)(random.NextDouble() - 0.5);
            }

            string output = "h" + layer;
            var node = new ProtobufWriter();
            node.WriteString(OnnxProto.NodeInput, previous);
            node.WriteString(OnnxProto.NodeInput, $"fc{layer}.weight");
            node.WriteString(OnnxProto.NodeInput, $"fc{layer}.bias");
            node.WriteString(OnnxProto.NodeOutput, output);
            node.WriteString(OnnxProto.NodeName, $"/fc{layer}/Gemm");
            node.WriteString(OnnxProto.NodeOpType, "Gemm");
            var transB = new ProtobufWriter();
            transB.WriteString(OnnxProto.AttributeName, "transB");
            transB.WriteInt64(OnnxProto.AttributeInt, 1);
            transB.WriteInt64(OnnxProto.AttributeType, OnnxProto.AttributeTypeInt);
            node.WriteMessage(OnnxProto.NodeAttribute, transB);
            graph.WriteMessage(OnnxProto.GraphNode, node);
            graph.WriteMessage(OnnxProto.GraphInitializer, OnnxProto.RawTensor($"fc{layer}.weight", new[] { Width, Width }, weights.AsSpan(), OnnxProto.ElementFloat));
            graph.WriteMessage(OnnxProto.GraphInitializer, OnnxProto.RawTensor($"fc{layer}.bias", new[] { Width }, bias.AsSpan(), OnnxProto.ElementFloat));
            previous = output;
        }

        graph.WriteString(OnnxProto.GraphName, "large");
        graph.WriteMessage(OnnxProto.GraphInput, OnnxProto.TensorValueInfo("x", OnnxProto.ElementFloat, "batch", new[] { Width }));
        graph.WriteMessage(OnnxProto.GraphOutput, OnnxProto.TensorValueInfo(previous, OnnxProto.ElementFloat, "batch", new[] { Width }));
        var model = new ProtobufWriter();
        model.WriteInt64(OnnxProto.ModelIrVersion, 8);
        model.WriteString(OnnxProto.ModelProducerName, "StaticGrad tests");
        model.WriteMessage(OnnxProto.ModelGraph, graph);
        var opset = new ProtobufWriter();
        opset.WriteString(OnnxProto.OpsetDomain, "");
        opset.WriteInt64(OnnxProto.OpsetVersionField, 17);
        model.WriteMessage(OnnxProto.ModelOpsetImport, opset);
        return model.WrittenSpan.ToArray();
    }
}
