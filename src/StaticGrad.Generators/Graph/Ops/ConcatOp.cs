using System.Collections.Generic;
using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Graph;
using StaticGrad.Generators.Helpers;

namespace StaticGrad.Generators.Graph.Ops
{
    /// <summary><c>Concat(dimension, a, b, …)</c>, <c>torch.cat</c> along a dimension of each example (the batch is not counted).</summary>
    internal sealed class ConcatOp : OpDefinition
    {
        public static readonly ConcatOp Instance = new();

        public override string Key => "Concat";

        public override string? Function => "Concat";

        public override int Arity => -1;

        public override string Formula => "the inputs side by side along the dimension";

        public override string BackwardFormula => "each input's gradient is its slice of dY";

        public override OpSettings ReadSettings(IOpArguments arguments) =>
            new(EquatableArray.Of(arguments.Int("dimension")), EquatableArray.Empty<double>(), string.Empty);

        public override string Describe(OpSettings settings) => $"Concat({settings.Int(0)}, …)";

        public override EquatableArray<int>? InferShape(OpSettings settings, IReadOnlyList<EquatableArray<int>> inputs, IShapeErrors errors)
        {
            EquatableArray<int> first = inputs[0];
            int d = settings.Int(0) < 0 ? settings.Int(0) + first.Count : settings.Int(0);
            if (d < 0 || d >= first.Count)
            {
                errors.Error($"Concat along dimension {settings.Int(0)} of {Shapes.Text(first)}: a shape of rank {first.Count} has dimensions 0 to {first.Count - 1} (the batch is not counted)");
                return null;
            }

            var dims = new int[first.Count];
            for (int i = 0; i < dims.Length; i++)
            {
                dims[i] = first[i];
            }

            for (int k = 1; k < inputs.Count; k++)
            {
                EquatableArray<int> other = inputs[k];
                if (other.Count != first.Count)
                {
                    errors.Error($"cannot concatenate {Shapes.Text(first)} and {Shapes.Text(other)}: their ranks differ");
                    return null;
                }

                for (int i = 0; i < dims.Length; i++)
                {
                    if (i != d && other[i] != first[i])
                    {
                        errors.Error($"cannot concatenate {Shapes.Text(first)} and {Shapes.Text(other)} along dimension {d}: {Shapes.Dimension(first.Count, i)} differs");
                        return null;
                    }
                }

                dims[d] += other[d];
            }

            return EquatableArray.Of(dims);
        }

        private static (int Outer, int Inner) Split(EquatableArray<int> shape, int d)
        {
            int outer = 1, inner = 1;
            for (int i = 0; i < shape.Count; i++)
            {
                if (i < d)
                {
                    outer *= shape[i];
                }
                else if (i > d)
                {
                    inner *= shape[i];
                }
            }

            return (outer, inner);
        }

        private static int Dimension(GraphNode node) => node.Settings.Int(0) < 0 ? node.Settings.Int(0) + node.Shape.Count : node.Settings.Int(0);

        public override void WriteForward(SourceWriter w, GraphCode code, GraphNode node)
        {
            int d = Dimension(node), offset = 0;
            (int outer, int inner) = Split(node.Shape, d);
            foreach (int input in node.Inputs)
            {
                int chunk = code.Spec.Nodes[input].Shape[d] * inner;
                w.Line($"global::StaticGrad.Kernels.Layout.ConcatPart({code.ValueSpan(input)}, batch, {outer}, {chunk}, {node.Shape[d] * inner}, {offset}, {code.OutputSpan(node)});");
                offset += chunk;
            }
        }

        /// <summary><c>Concat</c> along the dimension plus one (the batch is ONNX's dimension 0).</summary>
        public override void WriteOnnx(OnnxBuilder onnx, GraphNode node)
        {
            var inputs = new string[node.Inputs.Count];
            for (int k = 0; k < inputs.Length; k++)
            {
                inputs[k] = onnx.Input(node, k);
            }

            onnx.Add(node, "Concat", onnx.Output(node), inputs, OnnxBuilder.Attribute.Int("axis", Dimension(node) + 1));
        }

        public override void WriteBackward(SourceWriter w, GraphCode code, GraphNode node, IReadOnlyList<string?> inputGradients)
        {
            int d = Dimension(node), offset = 0;
            (int outer, int inner) = Split(node.Shape, d);
            for (int k = 0; k < node.Inputs.Count; k++)
            {
                int input = node.Inputs[k], chunk = code.Spec.Nodes[input].Shape[d] * inner;
                if (inputGradients[k] is { } dX)
                {
                    w.Line($"global::StaticGrad.Kernels.Layout.ConcatPartBackward({code.GradientSpan(node.Id)}, batch, {outer}, {chunk}, {node.Shape[d] * inner}, {offset}, {code.TargetSpan(dX, input)});");
                }

                offset += chunk;
            }
        }

        public override IEnumerable<string> OnnxImports => new[] { "Concat" };

        /// <summary><c>Concat</c> of computed values along a dimension other than the batch (the importer folds constant ones).</summary>
        public override void ImportOnnx(IOnnxImport import)
        {
            var inputs = new int[import.InputCount];
            for (int k = 0; k < inputs.Length; k++)
            {
                if (!import.IsValue(k))
                {
                    import.Unsupported($"input {k} is a constant; only a concatenation of computed values imports");
                    return;
                }

                inputs[k] = import.Value(k);
            }

            int rank = inputs.Length == 0 ? 0 : import.Shape(inputs[0]).Count + 1;
            long axis = import.Int("axis", 0);
            long dim = axis < 0 ? axis + rank : axis;
            if (inputs.Length == 0 || dim <= 0 || dim >= rank)
            {
                import.Unsupported($"axis {axis} on values of rank {rank}: only a concatenation along a dimension of each example (not the batch) imports");
                return;
            }

            int id = import.Add(this, new OpSettings(EquatableArray.Of((int)dim - 1), EquatableArray.Empty<double>(), string.Empty), inputs);
            if (id >= 0)
            {
                import.Output(id);
            }
        }
    }
}
