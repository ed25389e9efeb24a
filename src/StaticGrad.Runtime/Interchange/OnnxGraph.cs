using System;
using System.Collections.Generic;

namespace StaticGrad.Interchange
{
    /// <summary>
    /// A <c>[Model]</c>'s forward pass in evaluation mode as an ONNX graph, without its numbers: the nodes each op of the
    /// model's graph writes (from its own file in the generator), and which tensors of the model's state the file carries
    /// as initializers under their <c>state_dict</c> names. StaticGrad's generator writes one per model (its static
    /// <c>OnnxGraph</c> property); <see cref="OnnxGraphExport"/> writes it out with the model's current parameters and
    /// buffers. Public so generated code can build it; there is little reason to build one by hand.
    /// </summary>
    public sealed class OnnxGraph
    {
        /// <summary>Describes a graph of one output.</summary>
        /// <param name="docString">What the file's <c>doc_string</c> says (the model's architecture line).</param>
        /// <param name="inputs">The graph's inputs, in <c>Forward</c>'s parameter order, with their shapes per example.</param>
        /// <param name="output">The graph's output, with its shape per example.</param>
        /// <param name="nodes">The nodes in topological order (each reads only inputs, initializers and earlier nodes' outputs).</param>
        /// <param name="initializers">The tensors the nodes read that are not computed: state tensors and small constants.</param>
        /// <exception cref="ArgumentNullException">An argument is null.</exception>
        public OnnxGraph(string docString, OnnxTensorInfo[] inputs, OnnxTensorInfo output, OnnxNode[] nodes, OnnxInitializer[] initializers)
            : this(docString, inputs, new[] { output ?? throw new ArgumentNullException(nameof(output)) }, nodes, initializers)
        {
        }

        /// <summary>Describes a graph of one or more outputs (a model whose <c>Forward</c> returns a tuple).</summary>
        /// <param name="docString">What the file's <c>doc_string</c> says (the model's architecture line).</param>
        /// <param name="inputs">The graph's inputs, in <c>Forward</c>'s parameter order, with their shapes per example.</param>
        /// <param name="outputs">The graph's outputs, in the order <c>Forward</c> returns them, with their shapes per example.</param>
        /// <param name="nodes">The nodes in topological order (each reads only inputs, initializers and earlier nodes' outputs).</param>
        /// <param name="initializers">The tensors the nodes read that are not computed: state tensors and small constants.</param>
        /// <exception cref="ArgumentNullException">An argument is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="outputs"/> is empty or holds null.</exception>
        public OnnxGraph(string docString, OnnxTensorInfo[] inputs, OnnxTensorInfo[] outputs, OnnxNode[] nodes, OnnxInitializer[] initializers)
        {
            DocString = docString ?? throw new ArgumentNullException(nameof(docString));
            Inputs = inputs ?? throw new ArgumentNullException(nameof(inputs));
            Outputs = outputs ?? throw new ArgumentNullException(nameof(outputs));
            if (outputs.Length == 0 || Array.IndexOf(outputs, null) >= 0)
            {
                throw new ArgumentException($"outputs must hold at least one output and no null, but it holds {outputs.Length} entries{(outputs.Length == 0 ? string.Empty : " with a null")}.", nameof(outputs));
            }

            Nodes = nodes ?? throw new ArgumentNullException(nameof(nodes));
            Initializers = initializers ?? throw new ArgumentNullException(nameof(initializers));
        }

        /// <summary>What the file's <c>doc_string</c> says (the model's architecture line).</summary>
        public string DocString { get; }

        /// <summary>The graph's inputs, in <c>Forward</c>'s parameter order.</summary>
        public IReadOnlyList<OnnxTensorInfo> Inputs { get; }

        /// <summary>The graph's first (for most models its only) output.</summary>
        public OnnxTensorInfo Output => Outputs[0];

        /// <summary>The graph's outputs, in the order <c>Forward</c> returns them.</summary>
        public IReadOnlyList<OnnxTensorInfo> Outputs { get; }

        /// <summary>The nodes, in topological order; some apply to a range of opsets only.</summary>
        public IReadOnlyList<OnnxNode> Nodes { get; }

        /// <summary>The tensors that are not computed; only those a written node reads go into the file.</summary>
        public IReadOnlyList<OnnxInitializer> Initializers { get; }
    }

    /// <summary>A graph input or output: its name, its shape per example (the file puts a symbolic <c>batch</c> dimension in front), and whether it holds int32 token ids rather than floats.</summary>
    public sealed class OnnxTensorInfo
    {
        /// <summary>Describes a graph input or output.</summary>
        /// <param name="name">Its name in the graph.</param>
        /// <param name="shape">Its shape per example, without the batch dimension.</param>
        /// <param name="integers">Whether it holds int32 ids (a <c>Tokens</c> input) instead of floats.</param>
        /// <exception cref="ArgumentNullException">An argument is null.</exception>
        public OnnxTensorInfo(string name, int[] shape, bool integers = false)
        {
            Name = name ?? throw new ArgumentNullException(nameof(name));
            Shape = shape ?? throw new ArgumentNullException(nameof(shape));
            Integers = integers;
        }

        /// <summary>Whether the tensor holds int32 ids (ONNX's INT32) instead of floats.</summary>
        public bool Integers { get; }

        /// <summary>Its name in the graph.</summary>
        public string Name { get; }

        /// <summary>Its shape per example, without the batch dimension.</summary>
        public IReadOnlyList<int> Shape { get; }
    }

    /// <summary>
    /// One node of an ONNX graph (a <c>NodeProto</c> of the default domain): operator, value names in and out, attributes,
    /// and the opsets it is written for (an op may describe itself one way from an opset on and another way below it).
    /// </summary>
    public sealed class OnnxNode
    {
        /// <summary>Describes a node.</summary>
        /// <param name="opType">The ONNX operator (<c>Conv</c>, <c>Gemm</c>).</param>
        /// <param name="name">The node's name, unique in the graph.</param>
        /// <param name="inputs">The names of the values it reads, in the operator's order.</param>
        /// <param name="outputs">The names of the values it writes.</param>
        /// <param name="attributes">Its attributes.</param>
        /// <exception cref="ArgumentNullException">An argument is null.</exception>
        public OnnxNode(string opType, string name, string[] inputs, string[] outputs, params OnnxAttribute[] attributes)
        {
            OpType = opType ?? throw new ArgumentNullException(nameof(opType));
            Name = name ?? throw new ArgumentNullException(nameof(name));
            Inputs = inputs ?? throw new ArgumentNullException(nameof(inputs));
            Outputs = outputs ?? throw new ArgumentNullException(nameof(outputs));
            Attributes = attributes ?? throw new ArgumentNullException(nameof(attributes));
        }

        /// <summary>The ONNX operator.</summary>
        public string OpType { get; }

        /// <summary>The node's name.</summary>
        public string Name { get; }

        /// <summary>The names of the values it reads.</summary>
        public IReadOnlyList<string> Inputs { get; }

        /// <summary>The names of the values it writes.</summary>
        public IReadOnlyList<string> Outputs { get; }

        /// <summary>Its attributes.</summary>
        public IReadOnlyList<OnnxAttribute> Attributes { get; }

        /// <summary>The lowest opset the node is written for (0: any).</summary>
        public int MinimumOpset { get; init; }

        /// <summary>The highest opset the node is written for (<see cref="int.MaxValue"/>: any).</summary>
        public int MaximumOpset { get; init; } = int.MaxValue;

        /// <summary>Whether the node belongs in a file of <paramref name="opset"/>.</summary>
        /// <param name="opset">The default domain's opset version the file imports.</param>
        public bool AppliesTo(int opset) => opset >= MinimumOpset && opset <= MaximumOpset;
    }

    /// <summary>The kinds of attribute value an <see cref="OnnxAttribute"/> holds (a subset of ONNX's <c>AttributeProto.AttributeType</c>).</summary>
    public enum OnnxAttributeKind
    {
        /// <summary>One 32-bit float (<c>FLOAT</c>).</summary>
        Float = 1,

        /// <summary>One 64-bit integer (<c>INT</c>).</summary>
        Int = 2,

        /// <summary>A list of 64-bit integers (<c>INTS</c>).</summary>
        Ints = 7,
    }

    /// <summary>A node attribute: an integer (<c>transB</c>, <c>axis</c>), a list of integers (<c>kernel_shape</c>) or a float (<c>epsilon</c>).</summary>
    public sealed class OnnxAttribute
    {
        private OnnxAttribute(string name, OnnxAttributeKind kind, long value, long[] values, float real)
        {
            Name = name ?? throw new ArgumentNullException(nameof(name));
            Kind = kind;
            IntValue = value;
            IntValues = values;
            FloatValue = real;
        }

        /// <summary>The attribute's name.</summary>
        public string Name { get; }

        /// <summary>Which of the values it holds.</summary>
        public OnnxAttributeKind Kind { get; }

        /// <summary>The value of an <see cref="OnnxAttributeKind.Int"/> attribute.</summary>
        public long IntValue { get; }

        /// <summary>The values of an <see cref="OnnxAttributeKind.Ints"/> attribute (empty otherwise).</summary>
        public IReadOnlyList<long> IntValues { get; }

        /// <summary>The value of an <see cref="OnnxAttributeKind.Float"/> attribute.</summary>
        public float FloatValue { get; }

        /// <summary>An integer attribute.</summary>
        /// <param name="name">The attribute's name.</param>
        /// <param name="value">Its value.</param>
        /// <returns>The attribute.</returns>
        public static OnnxAttribute Int(string name, long value) => new(name, OnnxAttributeKind.Int, value, Array.Empty<long>(), 0);

        /// <summary>A list-of-integers attribute.</summary>
        /// <param name="name">The attribute's name.</param>
        /// <param name="values">Its values.</param>
        /// <returns>The attribute.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="values"/> is null.</exception>
        public static OnnxAttribute Ints(string name, params long[] values) =>
            new(name, OnnxAttributeKind.Ints, 0, values ?? throw new ArgumentNullException(nameof(values)), 0);

        /// <summary>A float attribute.</summary>
        /// <param name="name">The attribute's name.</param>
        /// <param name="value">Its value.</param>
        /// <returns>The attribute.</returns>
        public static OnnxAttribute Float(string name, float value) => new(name, OnnxAttributeKind.Float, 0, Array.Empty<long>(), value);
    }

    /// <summary>Where the values of an <see cref="OnnxInitializer"/> come from.</summary>
    public enum OnnxInitializerSource
    {
        /// <summary>A slice of the model's flat parameter array (a float tensor).</summary>
        Parameters,

        /// <summary>A slice of the model's flat buffer array (running statistics; a float tensor).</summary>
        Buffers,

        /// <summary>Constant 64-bit integers held by the initializer (a shape for <c>Reshape</c>).</summary>
        Int64Constant,

        /// <summary>Constant floats held by the initializer (the 0.5 of GELU).</summary>
        FloatConstant,
    }

    /// <summary>A tensor of the file that is not computed: one of the model's state tensors by its <c>state_dict</c> name, or a small constant.</summary>
    public sealed class OnnxInitializer
    {
        private OnnxInitializer(string name, OnnxInitializerSource source, int offset, int[] shape, long[] integers, float[] reals)
        {
            Name = name ?? throw new ArgumentNullException(nameof(name));
            Source = source;
            Offset = offset;
            Shape = ShapeArray = shape ?? throw new ArgumentNullException(nameof(shape));
            Int64Values = integers;
            FloatValues = reals;
            long count = 1;
            foreach (int dimension in shape)
            {
                if (dimension < 0)
                {
                    throw new ArgumentOutOfRangeException(nameof(shape), $"The dimensions of '{name}' must be 0 or more.");
                }

                count *= dimension;
            }

            if (count > int.MaxValue)
            {
                throw new ArgumentOutOfRangeException(nameof(shape), $"'{name}' has more than {int.MaxValue} values.");
            }

            Count = (int)count;
            if ((source == OnnxInitializerSource.Int64Constant && integers.Length != Count) || (source == OnnxInitializerSource.FloatConstant && reals.Length != Count))
            {
                throw new ArgumentException($"'{name}' has the shape [{string.Join(", ", shape)}] ({Count} values) but {Math.Max(integers.Length, reals.Length)} values.", nameof(shape));
            }
        }

        /// <summary>The tensor's name in the graph (a state tensor's <c>state_dict</c> name).</summary>
        public string Name { get; }

        /// <summary>Where its values come from.</summary>
        public OnnxInitializerSource Source { get; }

        /// <summary>Where a state tensor starts in its flat array.</summary>
        public int Offset { get; }

        /// <summary>Its shape (outermost first; empty for a scalar).</summary>
        public IReadOnlyList<int> Shape { get; }

        /// <summary>The same shape, for the writer.</summary>
        internal int[] ShapeArray { get; }

        /// <summary>Its number of values.</summary>
        public int Count { get; }

        /// <summary>The values of an <see cref="OnnxInitializerSource.Int64Constant"/> (empty otherwise).</summary>
        public IReadOnlyList<long> Int64Values { get; }

        /// <summary>The values of an <see cref="OnnxInitializerSource.FloatConstant"/> (empty otherwise).</summary>
        public IReadOnlyList<float> FloatValues { get; }

        /// <summary>A parameter tensor: <paramref name="shape"/>'s values of the flat parameter array from <paramref name="offset"/>.</summary>
        /// <param name="name">Its <c>state_dict</c> name.</param>
        /// <param name="offset">Where it starts in the parameter array.</param>
        /// <param name="shape">Its shape.</param>
        /// <returns>The initializer.</returns>
        public static OnnxInitializer Parameter(string name, int offset, params int[] shape) =>
            new(name, OnnxInitializerSource.Parameters, offset, shape, Array.Empty<long>(), Array.Empty<float>());

        /// <summary>A buffer tensor (a running statistic): <paramref name="shape"/>'s values of the flat buffer array from <paramref name="offset"/>.</summary>
        /// <param name="name">Its <c>state_dict</c> name.</param>
        /// <param name="offset">Where it starts in the buffer array.</param>
        /// <param name="shape">Its shape.</param>
        /// <returns>The initializer.</returns>
        public static OnnxInitializer Buffer(string name, int offset, params int[] shape) =>
            new(name, OnnxInitializerSource.Buffers, offset, shape, Array.Empty<long>(), Array.Empty<float>());

        /// <summary>A one-dimensional constant of 64-bit integers (a shape for <c>Reshape</c>).</summary>
        /// <param name="name">Its name in the graph.</param>
        /// <param name="values">Its values.</param>
        /// <returns>The initializer.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="values"/> is null.</exception>
        public static OnnxInitializer Int64(string name, params long[] values) =>
            new(name, OnnxInitializerSource.Int64Constant, 0, new[] { (values ?? throw new ArgumentNullException(nameof(values))).Length }, values, Array.Empty<float>());

        /// <summary>
        /// The additive causal mask of attention, [<paramref name="queries"/>, <paramref name="keys"/>]: 0 where key j ≤ query i,
        /// −∞ above the diagonal (added to the scores before the softmax, it hides later positions).
        /// </summary>
        /// <param name="name">Its name in the graph.</param>
        /// <param name="queries">Rows: query positions.</param>
        /// <param name="keys">Columns: key positions.</param>
        /// <returns>The initializer.</returns>
        public static OnnxInitializer CausalMask(string name, int queries, int keys)
        {
            var values = new float[checked(queries * keys)];
            for (int i = 0; i < queries; i++)
                for (int j = i + 1; j < keys; j++)
                    values[(i * keys) + j] = float.NegativeInfinity;
            return new(name, OnnxInitializerSource.FloatConstant, 0, new[] { queries, keys }, Array.Empty<long>(), values);
        }

        /// <summary>A float scalar constant (shape []).</summary>
        /// <param name="name">Its name in the graph.</param>
        /// <param name="value">Its value.</param>
        /// <returns>The initializer.</returns>
        public static OnnxInitializer Scalar(string name, float value) =>
            new(name, OnnxInitializerSource.FloatConstant, 0, Array.Empty<int>(), Array.Empty<long>(), new[] { value });
    }
}
