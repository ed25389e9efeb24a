using System.Collections.Immutable;

namespace StaticGrad.Generators.Onnx
{
    /// <summary>An ONNX <c>ModelProto</c>, the subset StaticGrad reads: IR version, opset imports, producer and the graph.</summary>
    internal sealed class OnnxModel
    {
        public OnnxModel(long irVersion, ImmutableArray<OnnxOpsetImport> opsetImports, string producerName, string producerVersion, OnnxGraph graph)
        {
            IrVersion = irVersion;
            OpsetImports = opsetImports;
            ProducerName = producerName;
            ProducerVersion = producerVersion;
            Graph = graph;
        }

        /// <summary><c>ir_version</c> (field 1); 0 when absent.</summary>
        public long IrVersion { get; }

        /// <summary><c>opset_import</c> (field 8), in file order.</summary>
        public ImmutableArray<OnnxOpsetImport> OpsetImports { get; }

        /// <summary><c>producer_name</c> (field 2), e.g. "pytorch"; empty when absent.</summary>
        public string ProducerName { get; }

        /// <summary><c>producer_version</c> (field 3); empty when absent.</summary>
        public string ProducerVersion { get; }

        /// <summary><c>graph</c> (field 7); the reader fails when there is none.</summary>
        public OnnxGraph Graph { get; }
    }

    /// <summary>An <c>OperatorSetIdProto</c>: the opset version a model uses for one operator domain ("" is ONNX's own).</summary>
    internal sealed class OnnxOpsetImport
    {
        public OnnxOpsetImport(string domain, long version)
        {
            Domain = domain;
            Version = version;
        }

        /// <summary><c>domain</c> (field 1); "" (or "ai.onnx") for the default domain.</summary>
        public string Domain { get; }

        /// <summary><c>version</c> (field 2).</summary>
        public long Version { get; }

        public override string ToString() => (Domain.Length == 0 ? "ai.onnx" : Domain) + " " + Version;
    }

    /// <summary>A <c>GraphProto</c>: nodes, initializers (the weights), inputs, outputs and value infos, all in file order.</summary>
    internal sealed class OnnxGraph
    {
        public OnnxGraph(string name, ImmutableArray<OnnxNode> nodes, ImmutableArray<OnnxTensor> initializers, ImmutableArray<OnnxValueInfo> inputs, ImmutableArray<OnnxValueInfo> outputs, ImmutableArray<OnnxValueInfo> valueInfo)
        {
            Name = name;
            Nodes = nodes;
            Initializers = initializers;
            Inputs = inputs;
            Outputs = outputs;
            ValueInfo = valueInfo;
        }

        /// <summary><c>name</c> (field 2); empty when absent.</summary>
        public string Name { get; }

        /// <summary><c>node</c> (field 1), in file order (<see cref="OnnxGraphCheck.TopologicalOrder"/> orders them).</summary>
        public ImmutableArray<OnnxNode> Nodes { get; }

        /// <summary><c>initializer</c> (field 5): the constant tensors, parameters and buffers.</summary>
        public ImmutableArray<OnnxTensor> Initializers { get; }

        /// <summary><c>input</c> (field 11); in IR versions below 4 this lists initializers too.</summary>
        public ImmutableArray<OnnxValueInfo> Inputs { get; }

        /// <summary><c>output</c> (field 12).</summary>
        public ImmutableArray<OnnxValueInfo> Outputs { get; }

        /// <summary><c>value_info</c> (field 13): types and shapes of intermediate values, when the producer wrote them.</summary>
        public ImmutableArray<OnnxValueInfo> ValueInfo { get; }
    }

    /// <summary>A <c>NodeProto</c>: one operator call, its inputs and outputs by value name ("" is an omitted optional one) and its attributes.</summary>
    internal sealed class OnnxNode
    {
        public OnnxNode(int index, ImmutableArray<string> inputs, ImmutableArray<string> outputs, string name, string opType, string domain, ImmutableArray<OnnxAttribute> attributes)
        {
            Index = index;
            Inputs = inputs;
            Outputs = outputs;
            Name = name;
            OpType = opType;
            Domain = domain;
            Attributes = attributes;
        }

        /// <summary>The node's position in the graph's <c>node</c> list (0-based).</summary>
        public int Index { get; }

        /// <summary><c>input</c> (field 1).</summary>
        public ImmutableArray<string> Inputs { get; }

        /// <summary><c>output</c> (field 2).</summary>
        public ImmutableArray<string> Outputs { get; }

        /// <summary><c>name</c> (field 3); may be empty.</summary>
        public string Name { get; }

        /// <summary><c>op_type</c> (field 4), e.g. "Conv".</summary>
        public string OpType { get; }

        /// <summary><c>domain</c> (field 7); "" for ONNX's own operators.</summary>
        public string Domain { get; }

        /// <summary><c>attribute</c> (field 5).</summary>
        public ImmutableArray<OnnxAttribute> Attributes { get; }

        /// <summary>The attribute called <paramref name="name"/>, or null.</summary>
        public OnnxAttribute? Attribute(string name)
        {
            foreach (OnnxAttribute attribute in Attributes)
            {
                if (attribute.Name == name)
                {
                    return attribute;
                }
            }

            return null;
        }

        /// <summary>How messages name the node: <c>node '/conv/Conv' (Conv)</c>, or <c>node #3 (Conv)</c> when it has no name.</summary>
        public string Describe() => Describe(Index, Name, OpType);

        internal static string Describe(int index, string name, string opType) =>
            (name.Length == 0 ? "node #" + index.ToString(System.Globalization.CultureInfo.InvariantCulture) : "node '" + name + "'") + " (" + (opType.Length == 0 ? "no op_type" : opType) + ")";

        public override string ToString() => Describe();
    }

    /// <summary>The values of <c>AttributeProto.AttributeType</c>.</summary>
    internal enum OnnxAttributeType
    {
        Undefined = 0,
        Float = 1,
        Int = 2,
        String = 3,
        Tensor = 4,
        Graph = 5,
        Floats = 6,
        Ints = 7,
        Strings = 8,
        Tensors = 9,
        Graphs = 10,
        SparseTensor = 11,
        SparseTensors = 12,
        TypeProto = 13,
        TypeProtos = 14,
    }

    /// <summary>
    /// An <c>AttributeProto</c>: a named constant argument of a node. The value sits in the field its <see cref="Type"/>
    /// names (f, i, s, t, floats, ints, strings); graph-valued attributes make the reader fail, and the other kinds
    /// (tensors, sparse tensors, type protos) keep only their type.
    /// </summary>
    internal sealed class OnnxAttribute
    {
        public OnnxAttribute(string name, OnnxAttributeType type, float f, long i, string s, OnnxTensor? t, ImmutableArray<float> floats, ImmutableArray<long> ints, ImmutableArray<string> strings)
        {
            Name = name;
            Type = type;
            F = f;
            I = i;
            S = s;
            T = t;
            Floats = floats;
            Ints = ints;
            Strings = strings;
        }

        /// <summary><c>name</c> (field 1).</summary>
        public string Name { get; }

        /// <summary><c>type</c> (field 20); when a file leaves it out (IR version 1), the kind of the value field present.</summary>
        public OnnxAttributeType Type { get; }

        /// <summary><c>f</c> (field 2).</summary>
        public float F { get; }

        /// <summary><c>i</c> (field 3).</summary>
        public long I { get; }

        /// <summary><c>s</c> (field 4), decoded as UTF-8 (invalid sequences become U+FFFD).</summary>
        public string S { get; }

        /// <summary><c>t</c> (field 5), or null.</summary>
        public OnnxTensor? T { get; }

        /// <summary><c>floats</c> (field 7; packed or not).</summary>
        public ImmutableArray<float> Floats { get; }

        /// <summary><c>ints</c> (field 8; packed or not).</summary>
        public ImmutableArray<long> Ints { get; }

        /// <summary><c>strings</c> (field 9), decoded as UTF-8.</summary>
        public ImmutableArray<string> Strings { get; }

        public override string ToString() => Name + ": " + Type;
    }

    /// <summary>What a <c>TypeProto</c> describes: StaticGrad reads only tensor types.</summary>
    internal enum OnnxTypeKind
    {
        /// <summary>No type given.</summary>
        None,

        /// <summary><c>tensor_type</c>.</summary>
        Tensor,

        /// <summary>A sequence, map, optional, sparse tensor or opaque type (not read further).</summary>
        Other,
    }

    /// <summary>
    /// A <c>ValueInfoProto</c> with its <c>TypeProto</c>: a value's name and, for a tensor, its element type and shape.
    /// <see cref="Shape"/> is default (IsDefault) when the type gives no shape (unknown rank).
    /// </summary>
    internal sealed class OnnxValueInfo
    {
        public OnnxValueInfo(string name, OnnxTypeKind kind, int elementType, ImmutableArray<OnnxDimension> shape)
        {
            Name = name;
            Kind = kind;
            ElementType = elementType;
            Shape = shape;
        }

        /// <summary><c>name</c> (field 1).</summary>
        public string Name { get; }

        /// <summary>Which kind of type <c>type</c> (field 2) holds.</summary>
        public OnnxTypeKind Kind { get; }

        /// <summary><c>TypeProto.Tensor.elem_type</c>, a <see cref="OnnxDataType"/> value; 0 when absent.</summary>
        public int ElementType { get; }

        /// <summary><c>TypeProto.Tensor.shape.dim</c>; default (not empty) when no shape is given, empty for a scalar.</summary>
        public ImmutableArray<OnnxDimension> Shape { get; }

        /// <summary>True when every dimension is a known number.</summary>
        public bool IsStatic
        {
            get
            {
                if (Shape.IsDefault)
                {
                    return false;
                }

                foreach (OnnxDimension dimension in Shape)
                {
                    if (!dimension.IsStatic)
                    {
                        return false;
                    }
                }

                return true;
            }
        }
    }

    /// <summary>
    /// A <c>TensorShapeProto.Dimension</c>: a number (<c>dim_value</c>), a symbol (<c>dim_param</c>, e.g. "batch") or
    /// neither (unknown).
    /// </summary>
    internal readonly struct OnnxDimension
    {
        public OnnxDimension(long? value, string? param)
        {
            Value = value;
            Param = param;
        }

        /// <summary><c>dim_value</c> (field 1), or null.</summary>
        public long? Value { get; }

        /// <summary><c>dim_param</c> (field 2), or null.</summary>
        public string? Param { get; }

        /// <summary>True when the dimension is a number.</summary>
        public bool IsStatic => Value.HasValue;

        public override string ToString() => Value.HasValue ? Value.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : Param ?? "?";
    }
}
