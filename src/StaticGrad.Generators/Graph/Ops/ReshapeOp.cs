using System.Collections.Generic;
using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Graph;
using StaticGrad.Generators.Helpers;

namespace StaticGrad.Generators.Graph.Ops
{
    /// <summary>
    /// <c>x.Flatten()</c> (every dimension but the batch into one, as <c>nn.Flatten()</c>) and <c>x.Reshape(d0, d1, …)</c>
    /// (per example; one −1 is inferred): the values do not move, so the output is a view of the input's memory.
    /// </summary>
    internal sealed class ReshapeOp : OpDefinition
    {
        public static readonly ReshapeOp Flatten = new("Flatten");

        public static readonly ReshapeOp Reshape = new("Reshape");

        private readonly string _name;

        private ReshapeOp(string name) => _name = name;

        public override string Key => _name;

        public override string? TensorMember => _name;

        public override bool IsView => true;

        public override string Formula => "the same values, read with another shape (no copy)";

        public override string BackwardFormula => "dX = dY (copied)";

        /// <summary>Reshape's settings are the target dimensions, read by the front end from its arguments (not named parameters).</summary>
        public override string Describe(OpSettings settings) => _name == "Flatten" ? "Flatten()" : $"Reshape({string.Join(", ", settings.Ints)})";

        public override EquatableArray<int>? InferShape(OpSettings settings, IReadOnlyList<EquatableArray<int>> inputs, IShapeErrors errors)
        {
            EquatableArray<int> x = inputs[0];
            int size = Shapes.Size(x);
            if (_name == "Flatten")
            {
                return Shapes.Of(size);
            }

            var dims = new int[settings.Ints.Count];
            int inferred = -1, known = 1;
            for (int i = 0; i < dims.Length; i++)
            {
                dims[i] = settings.Int(i);
                if (dims[i] == -1 && inferred < 0)
                {
                    inferred = i;
                }
                else if (dims[i] <= 0)
                {
                    errors.Error($"Reshape({string.Join(", ", settings.Ints)}): dimension {i} must be positive (or a single −1), got {dims[i]}");
                    return null;
                }
                else
                {
                    known *= dims[i];
                }
            }

            if (dims.Length is < 1 or > 4)
            {
                errors.Error($"Reshape takes 1 to 4 dimensions per example (the batch is left out), got {dims.Length}");
                return null;
            }

            if (inferred >= 0 && size % known == 0)
            {
                dims[inferred] = size / known;
                known = size;
            }

            if (known != size)
            {
                errors.Error($"cannot reshape {Shapes.Text(x)} ({size} values) to {string.Join("×", settings.Ints)}{(inferred >= 0 ? string.Empty : $" ({known} values)")}");
                return null;
            }

            return EquatableArray.Of(dims);
        }

        public override void WriteForward(SourceWriter w, GraphCode code, GraphNode node) =>
            w.Line($"// {code.Value(node.Id)} already holds the values: a {_name} is a view.");

        /// <summary>
        /// Flatten: ONNX's <c>Flatten</c> with axis 1. Reshape: <c>Reshape</c> to the constant [0, …the shape per example]
        /// (0 copies the batch; the −1 of the C# call is already worked out).
        /// </summary>
        public override void WriteOnnx(OnnxBuilder onnx, GraphNode node)
        {
            if (_name == "Flatten")
            {
                onnx.Add(node, "Flatten", onnx.Output(node), new[] { onnx.Input(node, 0) }, OnnxBuilder.Attribute.Int("axis", 1));
                return;
            }

            var shape = new long[node.Shape.Count + 1];
            for (int i = 0; i < node.Shape.Count; i++)
            {
                shape[i + 1] = node.Shape[i];
            }

            onnx.Add(node, "Reshape", onnx.Output(node), new[] { onnx.Input(node, 0), onnx.Int64s(node, "shape", shape) });
        }

        public override void WriteBackward(SourceWriter w, GraphCode code, GraphNode node, IReadOnlyList<string?> inputGradients)
        {
            if (inputGradients[0] is { } dX)
            {
                w.Line($"{code.GradientSpan(node.Id)}.CopyTo({code.TargetSpan(dX, node.Inputs[0])});");
            }
        }

        public override IEnumerable<string> OnnxImports => new[] { _name };

        /// <summary>
        /// <c>Flatten</c> with axis 1 (every dimension but the batch into one). <c>Reshape</c> to a constant shape whose first
        /// dimension keeps the batch (0, the batch a folded <c>Shape</c> gave, or −1 when the rest is known): the rest is the
        /// shape per example, with at most one −1. A reshape to the shape the value already has imports as nothing.
        /// </summary>
        public override void ImportOnnx(IOnnxImport import)
        {
            if (!import.IsValue(0))
            {
                import.Unsupported("its input is a constant");
                return;
            }

            int x = import.Value(0);
            EquatableArray<int> shape = import.Shape(x);
            if (_name == "Flatten")
            {
                long axis = import.Int("axis", 1);
                if (axis != 1 && axis + shape.Count + 1 != 1)
                {
                    import.Unsupported($"axis {axis}: only Flatten with axis 1 (keep the batch, flatten the rest) imports");
                    return;
                }

                import.Output(shape.Count == 1 ? x : import.Add(this, OpSettings.None, new[] { x }));
                return;
            }

            if (import.Integers(1) is not { } target)
            {
                return;
            }

            if (import.Int("allowzero", 0) != 0 || target.Length < 2)
            {
                import.Unsupported($"the shape [{Text(target)}]{(import.Int("allowzero", 0) != 0 ? " with allowzero = 1" : string.Empty)}: a reshape keeps the batch in front and gives each example 1 to 4 dimensions");
                return;
            }

            var dims = new int[target.Length - 1];
            long known = 1;
            for (int i = 1; i < target.Length; i++)
            {
                long d = target[i] == 0 && i < shape.Count + 1 ? shape[i - 1] : target[i];
                if (d == OnnxConstant.Batch || d < -1 || d == 0 || d > int.MaxValue)
                {
                    import.Unsupported($"the shape [{Text(target)}] moves the batch or has a dimension that is not static");
                    return;
                }

                dims[i - 1] = (int)d;
                known *= d == -1 ? 1 : d;
            }

            long first = target[0];
            bool keepsBatch = first == OnnxConstant.Batch || first == 0 || (first == -1 && System.Array.IndexOf(dims, -1) < 0 && known == Shapes.Size(shape));
            if (!keepsBatch)
            {
                import.Unsupported($"the shape [{Text(target)}] does not keep the batch as its first dimension");
                return;
            }

            var settings = new OpSettings(EquatableArray.Of(dims), EquatableArray.Empty<double>(), string.Empty);
            int id = import.Add(this, settings, new[] { x });
            if (id >= 0)
            {
                import.Output(import.Shape(id) == shape ? x : id);
            }
        }

        private static string Text(long[] dims) => string.Join(", ", System.Linq.Enumerable.Select(dims, d => d == OnnxConstant.Batch ? "batch" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }
}
