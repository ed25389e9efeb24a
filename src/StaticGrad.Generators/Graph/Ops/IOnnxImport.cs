using System.Collections.Generic;
using StaticGrad.Generators.Helpers;
using StaticGrad.Generators.Onnx;

namespace StaticGrad.Generators.Graph.Ops
{
    /// <summary>
    /// What an op's <see cref="OpDefinition.ImportOnnx"/> sees of the ONNX node it lowers: the node, its inputs as graph values
    /// or constants, its attributes, and where it adds its graph nodes. Implemented by the <c>[FromOnnx]</c> importer, which
    /// has already folded constants (<c>Constant</c>, <c>Identity</c>, <c>Shape</c>→<c>Gather</c>→<c>Unsqueeze</c>→<c>Concat</c>).
    /// </summary>
    internal interface IOnnxImport
    {
        /// <summary>The node being imported.</summary>
        OnnxNode Node { get; }

        /// <summary>The model's opset for ONNX's own operators.</summary>
        long Opset { get; }

        /// <summary>How many inputs the node names ("" for an omitted optional one counts).</summary>
        int InputCount { get; }

        /// <summary>Whether input <paramref name="index"/> is given (present and not "").</summary>
        bool HasInput(int index);

        /// <summary>
        /// The graph value that input <paramref name="index"/> is (computed from the model's input), or −1 after reporting
        /// when it is a constant or missing.
        /// </summary>
        int Value(int index);

        /// <summary>Whether input <paramref name="index"/> is a computed value (not a constant).</summary>
        bool IsValue(int index);

        /// <summary>The shape per example (the batch left out) of a graph value.</summary>
        EquatableArray<int> Shape(int value);

        /// <summary>
        /// Input <paramref name="index"/> as a float constant (an initializer or a folded <c>Constant</c>), or null after
        /// reporting when it is computed, missing, or not a float tensor.
        /// </summary>
        OnnxConstant? Constant(int index);

        /// <summary>
        /// Input <paramref name="index"/> as constant integers (a shape, axes), where <see cref="OnnxConstant.Batch"/> marks the
        /// batch size that a folded <c>Shape</c> gives; null after reporting when it is not constant.
        /// </summary>
        long[]? Integers(int index);

        /// <summary>An int attribute, or <paramref name="fallback"/> when absent.</summary>
        long Int(string name, long fallback);

        /// <summary>A float attribute, or <paramref name="fallback"/> when absent.</summary>
        double Float(string name, double fallback);

        /// <summary>An ints attribute, or null when absent.</summary>
        long[]? Ints(string name);

        /// <summary>A string attribute, or <paramref name="fallback"/> when absent.</summary>
        string Text(string name, string fallback);

        /// <summary>
        /// Adds a node of <paramref name="op"/> reading <paramref name="inputs"/>, with its state (each declaration of
        /// <see cref="OpDefinition.State"/> by name: the constant that fills it, named as the file names it); infers its shape
        /// (reporting when the op's shape rule rejects it) and returns its id, or −1.
        /// </summary>
        int Add(OpDefinition op, OpSettings settings, int[] inputs, IReadOnlyDictionary<string, OnnxConstant>? state = null);

        /// <summary>Makes the node's first output the graph value <paramref name="value"/> (an op that changes nothing here).</summary>
        void Output(int value);

        /// <summary>
        /// The one node that reads the node's first output, when exactly one does and the output is not the graph's
        /// (for fusing MatMul and the Add of its bias); null otherwise.
        /// </summary>
        OnnxNode? SoleConsumer();

        /// <summary>Marks <paramref name="node"/> (a <see cref="SoleConsumer"/>) as imported with this one: its first output is this node's.</summary>
        void Absorb(OnnxNode node);

        /// <summary>
        /// Input <paramref name="index"/> of another node (one <see cref="SoleConsumer"/> returned) as a float constant, or null
        /// (without reporting) when it is not one.
        /// </summary>
        OnnxConstant? ConstantOf(OnnxNode node, int index);

        /// <summary>Reports that this node cannot be imported, and why (an attribute value, a shape, a computed weight).</summary>
        void Unsupported(string reason);
    }

    /// <summary>A constant float tensor of the file (an initializer or a folded <c>Constant</c>), decoded.</summary>
    internal sealed class OnnxConstant
    {
        /// <summary>The value a folded <c>Shape</c> gives for the batch dimension (symbolic) in <see cref="IOnnxImport.Integers"/>.</summary>
        public const long Batch = long.MinValue;

        public OnnxConstant(string name, long[] dims, float[] values)
        {
            Name = name;
            Dims = dims;
            Values = values;
        }

        /// <summary>The initializer's name (<c>fc1.weight</c>), or the output name of the <c>Constant</c> node.</summary>
        public string Name { get; }

        /// <summary>The dimensions, outermost first.</summary>
        public long[] Dims { get; }

        /// <summary>The values, row-major.</summary>
        public float[] Values { get; }

        /// <summary>The dimensions as ints, as the graph's shapes hold them (each fits: the values fit an array).</summary>
        public EquatableArray<int> Shape
        {
            get
            {
                var shape = new int[Dims.Length];
                for (int i = 0; i < shape.Length; i++)
                {
                    shape[i] = (int)Dims[i];
                }

                return EquatableArray.Of(shape);
            }
        }

        /// <summary>The same name, the 2-D values transposed: [r, c] → [c, r].</summary>
        public OnnxConstant Transposed()
        {
            int rows = (int)Dims[0], columns = (int)Dims[1];
            var values = new float[Values.Length];
            for (int r = 0; r < rows; r++)
            {
                for (int c = 0; c < columns; c++)
                {
                    values[(c * rows) + r] = Values[(r * columns) + c];
                }
            }

            return new OnnxConstant(Name, new long[] { columns, rows }, values);
        }

        /// <summary>The same values with other dimensions (their product unchanged).</summary>
        public OnnxConstant Reshaped(params long[] dims) => new(Name, dims, Values);

        /// <summary>How messages name it: <c>initializer 'fc1.weight' [10, 32]</c>.</summary>
        public string Describe() => $"'{Name}' [{string.Join(", ", Dims)}]";
    }
}
