using System.Collections.Generic;
using System.Collections.Immutable;
using System.Text;

namespace StaticGrad.Generators.Onnx
{
    /// <summary>
    /// Reads an ONNX file (a Protocol Buffers <c>ModelProto</c>) into an <see cref="OnnxModel"/>, or says why it cannot.
    /// </summary>
    /// <remarks>
    /// <para>
    /// A hand-written wire-format reader (varint, 64-bit, length-delimited and 32-bit fields; unknown fields skipped;
    /// repeated scalars packed or not) for the subset of onnx.proto StaticGrad needs, with the field numbers of onnx.proto
    /// (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto, TypeProto.Tensor,
    /// TensorShapeProto). Fields StaticGrad does not read (doc strings, metadata, functions, training info, other
    /// TypeProto kinds) are skipped without being parsed.
    /// </para>
    /// <para>
    /// Any input gives a result and nothing is thrown: every length is checked against the bytes that remain before
    /// anything is allocated for it, each byte is parsed once (work linear in the length), nesting is bounded by the
    /// schema and by <see cref="MaxDepth"/>, and every allocation is a small constant times the bytes it stands for
    /// (tensor values stay in the file's array until decoded; messages of no bytes are not expanded into lists).
    /// Groups (wire types 3 and 4, which ONNX never writes) are errors, not skipped.
    /// </para>
    /// <para>
    /// Read-time checks beyond the wire format: tensor dims are not negative and their product fits an array (of at most
    /// 2 GB, the .NET Framework limit Visual Studio runs generators under); tensor values are present and exactly as many
    /// as the dims say; external data, segmented and sparse tensors and graph-valued attributes are reported as
    /// unsupported. Graph-level checks (definitions, cycles, opset) are in <see cref="OnnxGraphCheck"/>.
    /// </para>
    /// </remarks>
    internal sealed class OnnxReader
    {
        /// <summary>The deepest nesting of messages read (onnx.proto's subset needs 7: Model, Graph, ValueInfo, Type, Tensor type, Shape, Dimension).</summary>
        public const int MaxDepth = 64;

        /// <summary>The most elements a tensor may have (.NET's largest array length).</summary>
        public const long MaxElements = 0x7FFFFFC7;

        /// <summary>The most bytes a tensor's values may take (2 GB: an object's limit on .NET Framework).</summary>
        public const long MaxTensorBytes = int.MaxValue;

        private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

        private readonly byte[] _buffer;
        private readonly List<Frame> _path = new();
        private OnnxError? _error;

        private readonly Scratch<OnnxNode> _nodes = new();
        private readonly Scratch<OnnxTensor> _initializers = new();
        private readonly Scratch<OnnxValueInfo> _inputs = new(), _outputs = new(), _valueInfos = new();
        private readonly Scratch<OnnxOpsetImport> _opsets = new();
        private readonly Scratch<string> _nodeInputs = new(), _nodeOutputs = new(), _attributeStrings = new();
        private readonly Scratch<OnnxAttribute> _attributes = new();
        private readonly Scratch<long> _attributeInts = new(), _dims = new();
        private readonly Scratch<float> _attributeFloats = new();
        private readonly Scratch<OnnxDimension> _shape = new();
        private readonly Scratch<ByteRange> _floatRanges = new(), _int32Ranges = new(), _int64Ranges = new(), _doubleRanges = new();

        private static readonly OnnxAttribute EmptyAttribute = new(
            "", OnnxAttributeType.Undefined, 0, 0, "", null, ImmutableArray<float>.Empty, ImmutableArray<long>.Empty, ImmutableArray<string>.Empty);

        private OnnxReader(byte[] buffer) => _buffer = buffer;

        /// <summary>
        /// Reads <paramref name="bytes"/> as an ONNX model. The model's tensors keep slices of <paramref name="bytes"/>, which
        /// must not change afterwards.
        /// </summary>
        public static OnnxResult<OnnxModel> Read(byte[]? bytes)
        {
            if (bytes is null || bytes.Length == 0)
            {
                return new OnnxError(OnnxErrorKind.NotOnnx, "not an ONNX model: the file is empty", 0);
            }

            var reader = new OnnxReader(bytes);
            OnnxModel? model = reader.ReadModel();
            return model is null ? OnnxResult<OnnxModel>.Failure(reader._error!) : OnnxResult<OnnxModel>.Success(model);
        }

        // ---------------------------------------------------------------- messages

        private OnnxModel? ReadModel()
        {
            var c = new Cursor(0, _buffer.Length, "ModelProto");
            long irVersion = 0;
            string producerName = "", producerVersion = "";
            OnnxGraph? graph = null;
            bool recognized = false;
            int opsets = _opsets.Count;
            while (c.Position < c.End)
            {
                if (!ReadTag(ref c, out int field, out int wire))
                {
                    return NotOnnxUnless(recognized);
                }

                bool ok;
                switch (field)
                {
                    case 1:
                        ok = ReadInt64(ref c, field, wire, "ir_version", out irVersion);
                        break;
                    case 2:
                        ok = ReadString(ref c, field, wire, "producer_name", out producerName);
                        break;
                    case 3:
                        ok = ReadString(ref c, field, wire, "producer_version", out producerVersion);
                        break;
                    case 7:
                        ok = Enter(ref c, field, wire, "graph", -1, "GraphProto", out Cursor inner);
                        if (ok)
                        {
                            recognized = true;
                            graph = ReadGraph(inner);
                            ok = graph is not null;
                            Leave();
                        }

                        break;
                    case 8:
                        ok = Enter(ref c, field, wire, "opset_import", _opsets.Count - opsets, "OperatorSetIdProto", out inner);
                        if (ok)
                        {
                            recognized = true;
                            OnnxOpsetImport? opset = ReadOpset(inner);
                            ok = opset is not null;
                            if (ok)
                            {
                                _opsets.Push(opset!);
                            }

                            Leave();
                        }

                        break;
                    default:
                        ok = Skip(ref c, field, wire);
                        break;
                }

                if (!ok)
                {
                    return NotOnnxUnless(recognized);
                }

                recognized |= field is 1 or 2 or 3;
            }

            if (graph is null)
            {
                Fail(OnnxErrorKind.NotOnnx, "not an ONNX model: it has no graph (field 7 of ModelProto)", -1);
                return null;
            }

            return new OnnxModel(irVersion, _opsets.Pop(opsets), producerName, producerVersion, graph);
        }

        /// <summary>An error before anything of a ModelProto was recognised means the bytes are something else.</summary>
        private OnnxModel? NotOnnxUnless(bool recognized)
        {
            if (!recognized && _error is { Kind: OnnxErrorKind.Truncated or OnnxErrorKind.Corrupt })
            {
                string message = _error.Message;
                int colon = message.IndexOf(": ", System.StringComparison.Ordinal);
                _error = new OnnxError(OnnxErrorKind.NotOnnx, "not an ONNX model: " + (colon >= 0 ? message.Substring(colon + 2) : message), _error.ByteOffset);
            }

            return null;
        }

        private OnnxOpsetImport? ReadOpset(Cursor c)
        {
            string domain = "";
            long version = 0;
            while (c.Position < c.End)
            {
                if (!ReadTag(ref c, out int field, out int wire))
                {
                    return null;
                }

                bool ok = field switch
                {
                    1 => ReadString(ref c, field, wire, "domain", out domain),
                    2 => ReadInt64(ref c, field, wire, "version", out version),
                    _ => Skip(ref c, field, wire),
                };
                if (!ok)
                {
                    return null;
                }
            }

            return new OnnxOpsetImport(domain, version);
        }

        private OnnxGraph? ReadGraph(Cursor c)
        {
            string name = "";
            int nodes = _nodes.Count, initializers = _initializers.Count, inputs = _inputs.Count, outputs = _outputs.Count, valueInfos = _valueInfos.Count;
            while (c.Position < c.End)
            {
                if (!ReadTag(ref c, out int field, out int wire))
                {
                    return null;
                }

                bool ok;
                Cursor inner;
                switch (field)
                {
                    case 1:
                        ok = Enter(ref c, field, wire, "node", _nodes.Count - nodes, "NodeProto", out inner);
                        if (ok)
                        {
                            OnnxNode? node = ReadNode(inner, _nodes.Count - nodes);
                            ok = node is not null;
                            if (ok)
                            {
                                _nodes.Push(node!);
                            }

                            Leave();
                        }

                        break;
                    case 2:
                        ok = ReadString(ref c, field, wire, "name", out name);
                        break;
                    case 5:
                        ok = Enter(ref c, field, wire, "initializer", _initializers.Count - initializers, "TensorProto", out inner);
                        if (ok)
                        {
                            OnnxTensor? tensor = ReadTensor(inner, out TensorProblem problem);
                            ok = tensor is not null;
                            if (problem.Message is not null)
                            {
                                ok = Fail(problem.Kind, problem.Message, inner.Position);
                            }

                            if (ok)
                            {
                                _initializers.Push(tensor!);
                            }

                            Leave();
                        }

                        break;
                    case 11:
                    case 12:
                    case 13:
                        Scratch<OnnxValueInfo> list = field == 11 ? _inputs : field == 12 ? _outputs : _valueInfos;
                        int first = field == 11 ? inputs : field == 12 ? outputs : valueInfos;
                        ok = Enter(ref c, field, wire, field == 11 ? "input" : field == 12 ? "output" : "value_info", list.Count - first, "ValueInfoProto", out inner);
                        if (ok)
                        {
                            OnnxValueInfo? info = ReadValueInfo(inner);
                            ok = info is not null;
                            if (ok)
                            {
                                list.Push(info!);
                            }

                            Leave();
                        }

                        break;
                    case 15:
                        ok = Fail(OnnxErrorKind.Unsupported, "sparse initializers are not supported (field 15 of GraphProto)", c.Position);
                        break;
                    default:
                        ok = Skip(ref c, field, wire);
                        break;
                }

                if (!ok)
                {
                    return null;
                }
            }

            return new OnnxGraph(name, _nodes.Pop(nodes), _initializers.Pop(initializers), _inputs.Pop(inputs), _outputs.Pop(outputs), _valueInfos.Pop(valueInfos));
        }

        private OnnxNode? ReadNode(Cursor c, int index)
        {
            int start = c.Position;
            string name = "", opType = "", domain = "";
            int inputs = _nodeInputs.Count, outputs = _nodeOutputs.Count, attributes = _attributes.Count;
            string? graphAttribute = null;
            string? tensorProblem = null;
            OnnxErrorKind tensorKind = OnnxErrorKind.Corrupt;
            string problemAttribute = "";
            long problemOffset = -1;
            while (c.Position < c.End)
            {
                if (!ReadTag(ref c, out int field, out int wire))
                {
                    return null;
                }

                bool ok;
                string text;
                switch (field)
                {
                    case 1:
                        ok = ReadString(ref c, field, wire, "input", out text);
                        if (ok)
                        {
                            _nodeInputs.Push(text);
                        }

                        break;
                    case 2:
                        ok = ReadString(ref c, field, wire, "output", out text);
                        if (ok)
                        {
                            _nodeOutputs.Push(text);
                        }

                        break;
                    case 3:
                        ok = ReadString(ref c, field, wire, "name", out name);
                        break;
                    case 4:
                        ok = ReadString(ref c, field, wire, "op_type", out opType);
                        break;
                    case 7:
                        ok = ReadString(ref c, field, wire, "domain", out domain);
                        break;
                    case 5:
                        long at = c.Position;
                        ok = Enter(ref c, field, wire, "attribute", _attributes.Count - attributes, "AttributeProto", out Cursor inner);
                        if (ok)
                        {
                            bool hasGraph = false;
                            TensorProblem problem = default;
                            OnnxAttribute? attribute = inner.Position == inner.End ? EmptyAttribute : ReadAttribute(inner, out hasGraph, out problem);
                            ok = attribute is not null;
                            if (ok)
                            {
                                _attributes.Push(attribute!);
                                if (hasGraph)
                                {
                                    graphAttribute ??= attribute!.Name;
                                }

                                if (problem.Message is not null && tensorProblem is null)
                                {
                                    tensorProblem = problem.Message;
                                    tensorKind = problem.Kind;
                                    problemAttribute = attribute!.Name;
                                    problemOffset = at;
                                }
                            }

                            Leave();
                        }

                        break;
                    default:
                        ok = Skip(ref c, field, wire);
                        break;
                }

                if (!ok)
                {
                    return null;
                }
            }

            var node = new OnnxNode(index, _nodeInputs.Pop(inputs), _nodeOutputs.Pop(outputs), name, opType, domain, _attributes.Pop(attributes));
            if (graphAttribute is not null)
            {
                Fail(OnnxErrorKind.Unsupported, $"attribute '{graphAttribute}' of {node.Describe()} holds a graph (as If, Loop and Scan do); StaticGrad does not read subgraphs", start);
                return null;
            }

            if (tensorProblem is not null)
            {
                Fail(tensorKind, $"{tensorProblem}, in attribute '{problemAttribute}' of {node.Describe()}", problemOffset);
                return null;
            }

            return node;
        }

        private OnnxAttribute? ReadAttribute(Cursor c, out bool hasGraph, out TensorProblem problem)
        {
            hasGraph = false;
            problem = default;
            string name = "", s = "";
            long typeValue = 0, i = 0;
            float f = 0;
            OnnxTensor? t = null;
            OnnxAttributeType seen = OnnxAttributeType.Undefined;
            int strings = _attributeStrings.Count, ints = _attributeInts.Count, floats = _attributeFloats.Count;
            while (c.Position < c.End)
            {
                if (!ReadTag(ref c, out int field, out int wire))
                {
                    return null;
                }

                bool ok;
                switch (field)
                {
                    case 1:
                        ok = ReadString(ref c, field, wire, "name", out name);
                        break;
                    case 20:
                        ok = ReadInt64(ref c, field, wire, "type", out typeValue);
                        break;
                    case 2:
                        ok = ReadFloat(ref c, field, wire, "f", out f);
                        seen = OnnxAttributeType.Float;
                        break;
                    case 3:
                        ok = ReadInt64(ref c, field, wire, "i", out i);
                        seen = OnnxAttributeType.Int;
                        break;
                    case 4:
                        ok = ReadString(ref c, field, wire, "s", out s);
                        seen = OnnxAttributeType.String;
                        break;
                    case 5:
                        ok = Enter(ref c, field, wire, "t", -1, "TensorProto", out Cursor inner);
                        if (ok)
                        {
                            t = ReadTensor(inner, out problem);
                            ok = t is not null;
                            Leave();
                        }

                        seen = OnnxAttributeType.Tensor;
                        break;
                    case 6:
                    case 11:
                        hasGraph = true;
                        seen = field == 6 ? OnnxAttributeType.Graph : OnnxAttributeType.Graphs;
                        ok = Skip(ref c, field, wire);
                        break;
                    case 7:
                        ok = ReadFloats(ref c, field, wire, "floats", _attributeFloats);
                        seen = OnnxAttributeType.Floats;
                        break;
                    case 8:
                        ok = ReadVarints(ref c, field, wire, "ints", _attributeInts);
                        seen = OnnxAttributeType.Ints;
                        break;
                    case 9:
                        ok = ReadString(ref c, field, wire, "strings", out string text);
                        if (ok)
                        {
                            _attributeStrings.Push(text);
                        }

                        seen = OnnxAttributeType.Strings;
                        break;
                    default:
                        ok = Skip(ref c, field, wire);
                        break;
                }

                if (!ok)
                {
                    return null;
                }
            }

            var type = typeValue == 0 ? seen : (OnnxAttributeType)typeValue;
            if (typeValue is (long)OnnxAttributeType.Graph or (long)OnnxAttributeType.Graphs)
            {
                hasGraph = true;
            }

            if (typeValue is < 0 or > 1000)
            {
                type = OnnxAttributeType.Undefined;
            }

            return new OnnxAttribute(name, type, f, i, s, t, _attributeFloats.Pop(floats), _attributeInts.Pop(ints), _attributeStrings.Pop(strings));
        }

        /// <summary>A read-time problem of a tensor found in an attribute, reported by the node with its name.</summary>
        private struct TensorProblem
        {
            public OnnxErrorKind Kind;
            public string? Message;
        }

        /// <summary>
        /// Reads a TensorProto and checks its dims and data: null when the wire format is wrong (the error is set), else the
        /// tensor and, in <paramref name="problem"/>, what is wrong with its dims or data (the caller reports it, naming the
        /// initializer or the node's attribute).
        /// </summary>
        private OnnxTensor? ReadTensor(Cursor c, out TensorProblem problem)
        {
            problem = default;
            int rawStart = -1, rawLength = 0;
            string name = "";
            long dataType = 0, dataLocation = 0;
            bool segment = false;
            string? externalLocation = null;
            bool external = false;
            long stringCount = 0, uint64Count = 0;
            long floatCount = 0, int32Count = 0, int64Count = 0, doubleCount = 0;
            int dims = _dims.Count;
            int floats = _floatRanges.Count, int32s = _int32Ranges.Count, int64s = _int64Ranges.Count, doubles = _doubleRanges.Count;
            while (c.Position < c.End)
            {
                if (!ReadTag(ref c, out int field, out int wire))
                {
                    return null;
                }

                bool ok;
                switch (field)
                {
                    case 1:
                        ok = ReadVarints(ref c, field, wire, "dims", _dims);
                        break;
                    case 2:
                        ok = ReadInt64(ref c, field, wire, "data_type", out dataType);
                        break;
                    case 3:
                        segment = true;
                        ok = Skip(ref c, field, wire);
                        break;
                    case 4:
                        ok = ReadFixedRanges(ref c, field, wire, "float_data", 4, _floatRanges, ref floatCount);
                        break;
                    case 5:
                        ok = ReadVarintRanges(ref c, field, wire, "int32_data", _int32Ranges, ref int32Count);
                        break;
                    case 6:
                        ok = Skip(ref c, field, wire);
                        stringCount++;
                        break;
                    case 7:
                        ok = ReadVarintRanges(ref c, field, wire, "int64_data", _int64Ranges, ref int64Count);
                        break;
                    case 8:
                        ok = ReadString(ref c, field, wire, "name", out name);
                        break;
                    case 9:
                        // An optional field given twice: the last one wins.
                        ok = ReadBytes(ref c, field, wire, "raw_data", out rawStart, out rawLength);

                        break;
                    case 10:
                        ok = ReadFixedRanges(ref c, field, wire, "double_data", 8, _doubleRanges, ref doubleCount);
                        break;
                    case 11:
                        ok = ReadVarintRanges(ref c, field, wire, "uint64_data", null, ref uint64Count);
                        break;
                    case 13:
                        external = true;
                        ok = Enter(ref c, field, wire, "external_data", -1, "StringStringEntryProto", out Cursor inner);
                        if (ok)
                        {
                            ok = ReadEntry(inner, out string key, out string value);
                            if (ok && key == "location")
                            {
                                externalLocation = value;
                            }

                            Leave();
                        }

                        break;
                    case 14:
                        ok = ReadInt64(ref c, field, wire, "data_location", out dataLocation);
                        break;
                    default:
                        ok = Skip(ref c, field, wire);
                        break;
                }

                if (!ok)
                {
                    return null;
                }
            }

            ImmutableArray<long> shape = _dims.Pop(dims);
            string describe = name.Length == 0 ? "an unnamed tensor" : "tensor '" + name + "'";
            string? message = null;
            OnnxErrorKind kind = OnnxErrorKind.Corrupt;
            long count = 1;
            bool isRaw = rawStart >= 0;
            var encoding = OnnxScalarEncoding.Varint;
            ImmutableArray<ByteRange> data = ImmutableArray<ByteRange>.Empty;
            if (external || dataLocation == 1)
            {
                kind = OnnxErrorKind.ExternalData;
                message = $"external data is not supported: {describe} is stored in " + (externalLocation is null ? "another file" : "'" + externalLocation + "'");
            }
            else if (segment)
            {
                kind = OnnxErrorKind.Unsupported;
                message = $"{describe} is a segment of a larger tensor, which StaticGrad does not read";
            }
            else if (dataType is <= 0 or > int.MaxValue)
            {
                message = dataType == 0 ? $"{describe} has no data_type" : $"{describe} has data_type {dataType}, which onnx.proto does not define";
            }
            else
            {
                int type = (int)dataType;
                ulong product = 1;
                bool overflow = false, zero = false;
                foreach (long dimension in shape)
                {
                    if (dimension < 0)
                    {
                        message = $"{describe} has a negative dimension ({dimension}) in [{string.Join(", ", shape)}]";
                        break;
                    }

                    if (dimension == 0)
                    {
                        zero = true;
                    }
                    else if (!overflow)
                    {
                        if (product > ulong.MaxValue / (ulong)dimension)
                        {
                            overflow = true;
                        }
                        else
                        {
                            product *= (ulong)dimension;
                        }
                    }
                }

                int size = OnnxDataType.Size(type);
                if (message is not null)
                {
                }
                else if (zero)
                {
                    count = 0;
                }
                else if (overflow || product > MaxElements || (size > 0 && product * (ulong)size > MaxTensorBytes))
                {
                    kind = OnnxErrorKind.TooLarge;
                    string elements = overflow ? "more than 2^64" : OnnxError.Elements(product);
                    message = product <= MaxElements && !overflow
                        ? $"{describe} has {elements} {OnnxDataType.Name(type)} elements ({OnnxError.Elements(product * (ulong)size)} bytes), more than an array holds (2 GB)"
                        : $"{describe} has {elements} elements, more than an array holds";
                }
                else
                {
                    count = (long)product;
                }

                if (message is null)
                {
                    // Which typed field holds this data type's values (onnx.proto's comments), and how many there are.
                    (string field, long present, int perElement) = type switch
                    {
                        OnnxDataType.Float => ("float_data", floatCount, 1),
                        OnnxDataType.Complex64 => ("float_data", floatCount, 2),
                        OnnxDataType.Double => ("double_data", doubleCount, 1),
                        OnnxDataType.Complex128 => ("double_data", doubleCount, 2),
                        OnnxDataType.Int64 => ("int64_data", int64Count, 1),
                        OnnxDataType.String => ("string_data", stringCount, 1),
                        OnnxDataType.UInt32 or OnnxDataType.UInt64 => ("uint64_data", uint64Count, 1),
                        _ => ("int32_data", int32Count, 1),
                    };
                    long typed = floatCount + doubleCount + int64Count + stringCount + uint64Count + int32Count;
                    if (isRaw)
                    {
                        if (typed > 0)
                        {
                            message = $"{describe} has values both in raw_data and in a typed field";
                        }
                        else if (type == OnnxDataType.String)
                        {
                            message = $"{describe} is STRING but has raw_data";
                        }
                        else if (size > 0 && (long)rawLength != count * size)
                        {
                            message = $"{describe} declares {OnnxError.Count(count)} {OnnxDataType.Name(type)} elements ({OnnxError.Count(count * size)} bytes) but its raw_data holds {OnnxError.Count(rawLength)} bytes";
                        }
                    }
                    else if (typed != present)
                    {
                        string other =
                            floatCount > 0 && field != "float_data" ? "float_data"
                            : doubleCount > 0 && field != "double_data" ? "double_data"
                            : int64Count > 0 && field != "int64_data" ? "int64_data"
                            : stringCount > 0 && field != "string_data" ? "string_data"
                            : uint64Count > 0 && field != "uint64_data" ? "uint64_data"
                            : "int32_data";
                        message = $"{describe} is {OnnxDataType.Name(type)} but has values in {other}";
                    }
                    else if (present != count * perElement)
                    {
                        message = present == 0
                            ? $"{describe} has dims [{string.Join(", ", shape)}] ({OnnxError.Count(count)} elements) but no values"
                            : $"{describe} declares {OnnxError.Count(count)} {OnnxDataType.Name(type)} elements but {field} holds {OnnxError.Count(present)}";
                    }

                    if (message is null)
                    {
                        if (isRaw)
                        {
                            data = ImmutableArray.Create(new ByteRange(rawStart, rawLength));
                        }
                        else if (field == "float_data")
                        {
                            data = _floatRanges.Pop(floats);
                            encoding = OnnxScalarEncoding.Fixed32;
                        }
                        else if (field == "double_data")
                        {
                            data = _doubleRanges.Pop(doubles);
                            encoding = OnnxScalarEncoding.Fixed64;
                        }
                        else if (field == "int64_data")
                        {
                            data = _int64Ranges.Pop(int64s);
                        }
                        else if (field == "int32_data")
                        {
                            data = _int32Ranges.Pop(int32s);
                        }
                    }
                }
            }

            _floatRanges.Drop(floats);
            _int32Ranges.Drop(int32s);
            _int64Ranges.Drop(int64s);
            _doubleRanges.Drop(doubles);
            if (message is not null)
            {
                problem = new TensorProblem { Kind = kind, Message = message };
            }

            return new OnnxTensor(name, (int)System.Math.Max(0, System.Math.Min(dataType, int.MaxValue)), shape, problem.Message is null ? count : 0, _buffer, isRaw, encoding, data);
        }

        private bool ReadEntry(Cursor c, out string key, out string value)
        {
            key = "";
            value = "";
            while (c.Position < c.End)
            {
                if (!ReadTag(ref c, out int field, out int wire))
                {
                    return false;
                }

                bool ok = field switch
                {
                    1 => ReadString(ref c, field, wire, "key", out key),
                    2 => ReadString(ref c, field, wire, "value", out value),
                    _ => Skip(ref c, field, wire),
                };
                if (!ok)
                {
                    return false;
                }
            }

            return true;
        }

        private OnnxValueInfo? ReadValueInfo(Cursor c)
        {
            string name = "";
            var kind = OnnxTypeKind.None;
            int elementType = 0;
            ImmutableArray<OnnxDimension> shape = default;
            while (c.Position < c.End)
            {
                if (!ReadTag(ref c, out int field, out int wire))
                {
                    return null;
                }

                bool ok;
                switch (field)
                {
                    case 1:
                        ok = ReadString(ref c, field, wire, "name", out name);
                        break;
                    case 2:
                        ok = Enter(ref c, field, wire, "type", -1, "TypeProto", out Cursor inner);
                        if (ok)
                        {
                            ok = ReadType(inner, out kind, out elementType, out shape);
                            Leave();
                        }

                        break;
                    default:
                        ok = Skip(ref c, field, wire);
                        break;
                }

                if (!ok)
                {
                    return null;
                }
            }

            return new OnnxValueInfo(name, kind, elementType, shape);
        }

        private bool ReadType(Cursor c, out OnnxTypeKind kind, out int elementType, out ImmutableArray<OnnxDimension> shape)
        {
            kind = OnnxTypeKind.None;
            elementType = 0;
            shape = default;
            while (c.Position < c.End)
            {
                if (!ReadTag(ref c, out int field, out int wire))
                {
                    return false;
                }

                bool ok;
                switch (field)
                {
                    case 1:
                        kind = OnnxTypeKind.Tensor;
                        ok = Enter(ref c, field, wire, "tensor_type", -1, "TypeProto.Tensor", out Cursor inner);
                        if (ok)
                        {
                            ok = ReadTensorType(inner, out elementType, out shape);
                            Leave();
                        }

                        break;
                    case 4:
                    case 5:
                    case 7:
                    case 8:
                    case 9:
                        kind = OnnxTypeKind.Other;
                        elementType = 0;
                        shape = default;
                        ok = Skip(ref c, field, wire);
                        break;
                    default:
                        ok = Skip(ref c, field, wire);
                        break;
                }

                if (!ok)
                {
                    return false;
                }
            }

            return true;
        }

        private bool ReadTensorType(Cursor c, out int elementType, out ImmutableArray<OnnxDimension> shape)
        {
            elementType = 0;
            shape = default;
            while (c.Position < c.End)
            {
                if (!ReadTag(ref c, out int field, out int wire))
                {
                    return false;
                }

                bool ok;
                switch (field)
                {
                    case 1:
                        ok = ReadInt64(ref c, field, wire, "elem_type", out long type);
                        elementType = type is < 0 or > int.MaxValue ? -1 : (int)type;
                        break;
                    case 2:
                        ok = Enter(ref c, field, wire, "shape", -1, "TensorShapeProto", out Cursor inner);
                        if (ok)
                        {
                            ok = ReadShape(inner, out shape);
                            Leave();
                        }

                        break;
                    default:
                        ok = Skip(ref c, field, wire);
                        break;
                }

                if (!ok)
                {
                    return false;
                }
            }

            return true;
        }

        private bool ReadShape(Cursor c, out ImmutableArray<OnnxDimension> shape)
        {
            shape = default;
            int dims = _shape.Count;
            while (c.Position < c.End)
            {
                if (!ReadTag(ref c, out int field, out int wire))
                {
                    return false;
                }

                bool ok;
                if (field == 1)
                {
                    ok = Enter(ref c, field, wire, "dim", _shape.Count - dims, "TensorShapeProto.Dimension", out Cursor inner);
                    if (ok)
                    {
                        ok = ReadDimension(inner, out OnnxDimension dimension);
                        _shape.Push(dimension);
                        Leave();
                    }
                }
                else
                {
                    ok = Skip(ref c, field, wire);
                }

                if (!ok)
                {
                    return false;
                }
            }

            shape = _shape.Pop(dims);
            return true;
        }

        private bool ReadDimension(Cursor c, out OnnxDimension dimension)
        {
            dimension = default;
            while (c.Position < c.End)
            {
                if (!ReadTag(ref c, out int field, out int wire))
                {
                    return false;
                }

                bool ok;
                switch (field)
                {
                    case 1:
                        ok = ReadInt64(ref c, field, wire, "dim_value", out long value);
                        dimension = new OnnxDimension(value, null); // a oneof: the last of dim_value and dim_param wins
                        break;
                    case 2:
                        ok = ReadString(ref c, field, wire, "dim_param", out string param);
                        dimension = new OnnxDimension(null, param);
                        break;
                    default:
                        ok = Skip(ref c, field, wire);
                        break;
                }

                if (!ok)
                {
                    return false;
                }
            }

            return true;
        }

        // ---------------------------------------------------------------- wire format

        private const int Varint = 0, Fixed64 = 1, LengthDelimited = 2, Fixed32 = 5;

        /// <summary>A message being read: the bytes [<see cref="Position"/>, <see cref="End"/>) of the file and its type's name.</summary>
        private struct Cursor
        {
            public Cursor(int position, int end, string message)
            {
                Position = position;
                End = end;
                Message = message;
            }

            public int Position;
            public readonly int End;
            public readonly string Message;
        }

        /// <summary>One step of the path to where an error is: the field's name and the element's index (-1 for a singular field).</summary>
        private readonly struct Frame
        {
            public Frame(string field, int index)
            {
                Field = field;
                Index = index;
            }

            public string Field { get; }

            public int Index { get; }
        }

        private bool Enter(ref Cursor c, int field, int wire, string name, int index, string message, out Cursor inner)
        {
            inner = default;
            if (!ReadBytes(ref c, field, wire, name, out int start, out int length))
            {
                return false;
            }

            _path.Add(new Frame(name, index));
            if (_path.Count > MaxDepth)
            {
                return Fail(OnnxErrorKind.TooDeep, $"messages are nested more than {MaxDepth} deep", start);
            }

            inner = new Cursor(start, start + length, message);
            return true;
        }

        private void Leave() => _path.RemoveAt(_path.Count - 1);

        private bool ReadTag(ref Cursor c, out int field, out int wire)
        {
            int at = c.Position;
            field = 0;
            wire = 0;
            int status = ReadVarint(ref c, out ulong tag);
            if (status != 0)
            {
                return status == 1
                    ? Past(c, at, $"a field tag of {c.Message} runs past the end")
                    : Fail(OnnxErrorKind.Corrupt, $"the file is corrupt: a field tag of {c.Message} is a varint of more than ten bytes", at);
            }

            if ((tag >> 3) is 0 or > 536_870_911)
            {
                return Fail(OnnxErrorKind.Corrupt, $"the file is corrupt: {c.Message} has a field numbered {tag >> 3}, outside 1 to 536,870,911", at);
            }

            field = (int)(tag >> 3);
            wire = (int)(tag & 7);
            if (wire is not (Varint or Fixed64 or LengthDelimited or Fixed32))
            {
                return Fail(OnnxErrorKind.Corrupt, $"the file is corrupt: field {field} of {c.Message} has wire type {wire}" + (wire is 3 or 4 ? " (a group, which ONNX never writes)" : ", which Protocol Buffers does not define"), at);
            }

            return true;
        }

        /// <summary>0: read; 1: ran past the cursor's end; 2: longer than ten bytes or above 2^64.</summary>
        private int ReadVarint(ref Cursor c, out ulong value)
        {
            value = 0;
            for (int i = 0, shift = 0; i < 10; i++, shift += 7)
            {
                if (c.Position >= c.End)
                {
                    return 1;
                }

                byte b = _buffer[c.Position++];
                if (i == 9 && b > 1)
                {
                    return 2;
                }

                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return 0;
                }
            }

            return 2;
        }

        private bool ReadInt64(ref Cursor c, int field, int wire, string name, out long value)
        {
            value = 0;
            if (!Expect(c, field, wire, Varint, name))
            {
                return false;
            }

            int at = c.Position;
            int status = ReadVarint(ref c, out ulong raw);
            value = (long)raw;
            return status switch
            {
                0 => true,
                1 => Past(c, at, $"field {field} ({name}) of {c.Message} runs past the end"),
                _ => Fail(OnnxErrorKind.Corrupt, $"the file is corrupt: field {field} ({name}) of {c.Message} is a varint of more than ten bytes", at),
            };
        }

        private bool ReadFloat(ref Cursor c, int field, int wire, string name, out float value)
        {
            value = 0;
            if (!Expect(c, field, wire, Fixed32, name))
            {
                return false;
            }

            if (c.End - c.Position < 4)
            {
                return Past(c, c.Position, $"field {field} ({name}) of {c.Message} needs 4 bytes but {OnnxError.Count(c.End - c.Position)} remain");
            }

            value = ReadSingle(c.Position);
            c.Position += 4;
            return true;
        }

        private bool ReadString(ref Cursor c, int field, int wire, string name, out string value)
        {
            value = "";
            if (!ReadBytes(ref c, field, wire, name, out int start, out int length))
            {
                return false;
            }

            value = length == 0 ? "" : Utf8.GetString(_buffer, start, length);
            return true;
        }

        private bool ReadBytes(ref Cursor c, int field, int wire, string name, out int start, out int length)
        {
            start = 0;
            length = 0;
            if (!Expect(c, field, wire, LengthDelimited, name))
            {
                return false;
            }

            int at = c.Position;
            int status = ReadVarint(ref c, out ulong declared);
            if (status == 1)
            {
                return Past(c, at, $"the length of field {field} ({name}) of {c.Message} runs past the end");
            }

            if (status == 2)
            {
                return Fail(OnnxErrorKind.Corrupt, $"the file is corrupt: the length of field {field} ({name}) of {c.Message} is a varint of more than ten bytes", at);
            }

            int remaining = c.End - c.Position;
            if (declared > (ulong)remaining)
            {
                return Past(c, at, $"field {field} ({name}) of {c.Message} declares {(declared > long.MaxValue ? declared.ToString(System.Globalization.CultureInfo.InvariantCulture) : OnnxError.Count((long)declared))} bytes but {OnnxError.Count(remaining)} remain");
            }

            start = c.Position;
            length = (int)declared;
            c.Position += length;
            return true;
        }

        /// <summary>Repeated float: one fixed32 element, or a packed run of them.</summary>
        private bool ReadFloats(ref Cursor c, int field, int wire, string name, Scratch<float> target)
        {
            if (wire == Fixed32)
            {
                bool ok = ReadFloat(ref c, field, wire, name, out float value);
                target.Push(value);
                return ok;
            }

            if (!ReadBytes(ref c, field, wire, name, out int start, out int length))
            {
                return false;
            }

            if (length % 4 != 0)
            {
                return Fail(OnnxErrorKind.Corrupt, $"the file is corrupt: packed field {field} ({name}) of {c.Message} has {OnnxError.Count(length)} bytes, not a multiple of 4", start);
            }

            for (int at = start; at < start + length; at += 4)
            {
                target.Push(ReadSingle(at));
            }

            return true;
        }

        /// <summary>Repeated int64: one varint, or a packed run of them.</summary>
        private bool ReadVarints(ref Cursor c, int field, int wire, string name, Scratch<long> target)
        {
            if (wire == Varint)
            {
                bool ok = ReadInt64(ref c, field, wire, name, out long value);
                target.Push(value);
                return ok;
            }

            if (!ReadBytes(ref c, field, wire, name, out int start, out int length))
            {
                return false;
            }

            var inner = new Cursor(start, start + length, c.Message);
            while (inner.Position < inner.End)
            {
                int at = inner.Position;
                if (ReadVarint(ref inner, out ulong value) != 0)
                {
                    return Fail(OnnxErrorKind.Corrupt, $"the file is corrupt: packed field {field} ({name}) of {c.Message} ends inside a varint or has one of more than ten bytes", at);
                }

                target.Push((long)value);
            }

            return true;
        }

        /// <summary>A tensor's fixed-width data field: the element's bytes or the packed run, as a range of the file; counts elements.</summary>
        private bool ReadFixedRanges(ref Cursor c, int field, int wire, string name, int size, Scratch<ByteRange> target, ref long count)
        {
            int expected = size == 4 ? Fixed32 : Fixed64;
            if (wire == expected)
            {
                if (c.End - c.Position < size)
                {
                    return Past(c, c.Position, $"field {field} ({name}) of {c.Message} needs {size} bytes but {OnnxError.Count(c.End - c.Position)} remain");
                }

                target.Push(new ByteRange(c.Position, size));
                c.Position += size;
                count++;
                return true;
            }

            if (wire != LengthDelimited)
            {
                return Expect(c, field, wire, expected, name);
            }

            if (!ReadBytes(ref c, field, wire, name, out int start, out int length))
            {
                return false;
            }

            if (length % size != 0)
            {
                return Fail(OnnxErrorKind.Corrupt, $"the file is corrupt: packed field {field} ({name}) of {c.Message} has {OnnxError.Count(length)} bytes, not a multiple of {size}", start);
            }

            if (length > 0)
            {
                target.Push(new ByteRange(start, length));
            }

            count += length / size;
            return true;
        }

        /// <summary>A tensor's varint data field: the element's bytes or the packed run, as a range of the file (checked to be whole varints); counts elements.</summary>
        private bool ReadVarintRanges(ref Cursor c, int field, int wire, string name, Scratch<ByteRange>? target, ref long count)
        {
            int start, length;
            if (wire == Varint)
            {
                start = c.Position;
                if (!ReadInt64(ref c, field, wire, name, out _))
                {
                    return false;
                }

                length = c.Position - start;
            }
            else if (!ReadBytes(ref c, field, wire, name, out start, out length))
            {
                return false;
            }

            int run = 0;
            for (int at = start; at < start + length; at++)
            {
                if (_buffer[at] < 0x80)
                {
                    count++;
                    run = 0;
                }
                else if (++run >= 10)
                {
                    return Fail(OnnxErrorKind.Corrupt, $"the file is corrupt: packed field {field} ({name}) of {c.Message} has a varint of more than ten bytes", at);
                }
            }

            if (run != 0)
            {
                return Fail(OnnxErrorKind.Corrupt, $"the file is corrupt: packed field {field} ({name}) of {c.Message} ends inside a varint", start + length - 1);
            }

            if (length > 0)
            {
                target?.Push(new ByteRange(start, length));
            }

            return true;
        }

        private bool Skip(ref Cursor c, int field, int wire)
        {
            int at = c.Position;
            switch (wire)
            {
                case Varint:
                    int status = ReadVarint(ref c, out _);
                    return status == 0 || (status == 1
                        ? Past(c, at, $"field {field} of {c.Message} runs past the end")
                        : Fail(OnnxErrorKind.Corrupt, $"the file is corrupt: field {field} of {c.Message} is a varint of more than ten bytes", at));
                case Fixed64:
                case Fixed32:
                    int size = wire == Fixed64 ? 8 : 4;
                    if (c.End - c.Position < size)
                    {
                        return Past(c, at, $"field {field} of {c.Message} needs {size} bytes but {OnnxError.Count(c.End - c.Position)} remain");
                    }

                    c.Position += size;
                    return true;
                default:
                    return ReadBytes(ref c, field, wire, "unknown", out _, out _);
            }
        }

        private bool Expect(Cursor c, int field, int wire, int expected, string name) =>
            wire == expected || Fail(OnnxErrorKind.Corrupt, $"the file is corrupt: field {field} ({name}) of {c.Message} has wire type {WireName(wire)}, expected {WireName(expected)}", c.Position);

        private static string WireName(int wire) => wire switch
        {
            Varint => "0 (varint)",
            Fixed64 => "1 (64-bit)",
            LengthDelimited => "2 (length-delimited)",
            Fixed32 => "5 (32-bit)",
            _ => wire.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };

        /// <summary>Something runs past the end of its message: the file is truncated when that end is the file's, corrupt when it is a nested message's.</summary>
        private bool Past(Cursor c, long at, string what) =>
            c.End == _buffer.Length
                ? Fail(OnnxErrorKind.Truncated, "the file is truncated: " + what, at)
                : Fail(OnnxErrorKind.Corrupt, $"the file is corrupt: {what} of its {c.Message}", at);

        private bool Fail(OnnxErrorKind kind, string message, long at)
        {
            if (_error is null)
            {
                var where = new StringBuilder(message);
                if (at >= 0 || _path.Count > 0)
                {
                    where.Append(" (");
                    if (at >= 0)
                    {
                        where.Append("at byte ").Append(OnnxError.Count(at));
                    }

                    if (_path.Count > 0)
                    {
                        where.Append(at >= 0 ? ", in " : "in ");
                        for (int i = 0; i < _path.Count; i++)
                        {
                            where.Append(i == 0 ? "" : " › ").Append(_path[i].Field);
                            if (_path[i].Index >= 0)
                            {
                                where.Append(" #").Append(_path[i].Index.ToString(System.Globalization.CultureInfo.InvariantCulture));
                            }
                        }
                    }

                    where.Append(')');
                }

                _error = new OnnxError(kind, where.ToString(), at);
            }

            return false;
        }

        private float ReadSingle(int at)
        {
            if (System.BitConverter.IsLittleEndian)
            {
                return System.BitConverter.ToSingle(_buffer, at);
            }

            byte[] bytes = { _buffer[at + 3], _buffer[at + 2], _buffer[at + 1], _buffer[at] };
            return System.BitConverter.ToSingle(bytes, 0);
        }
    }
}
