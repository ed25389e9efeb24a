using System.Collections.Generic;
using System.Linq;
using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Graph;
using StaticGrad.Generators.Helpers;

namespace StaticGrad.Generators.Graph.Ops
{
    /// <summary><c>x.Transpose(a, b)</c>: swaps two dimensions of each example (the batch is not one of them); the values are copied.</summary>
    internal sealed class TransposeOp : OpDefinition
    {
        public static readonly TransposeOp Instance = new();

        public override string Key => "Transpose";

        public override string? TensorMember => "Transpose";

        public override string Formula => "y[…, j, …, i, …] = x[…, i, …, j, …]";

        public override string BackwardFormula => "dX = dY transposed back";

        public override string Describe(OpSettings settings) => $"Transpose({settings.Int(0)}, {settings.Int(1)})";

        public override EquatableArray<int>? InferShape(OpSettings settings, IReadOnlyList<EquatableArray<int>> inputs, IShapeErrors errors)
        {
            EquatableArray<int> x = inputs[0];
            int a = settings.Int(0), b = settings.Int(1);
            a = a < 0 ? a + x.Count : a;
            b = b < 0 ? b + x.Count : b;
            if (a < 0 || a >= x.Count || b < 0 || b >= x.Count)
            {
                errors.Error($"{Describe(settings)} on {Shapes.Text(x)}: a shape of rank {x.Count} has dimensions 0 to {x.Count - 1} (the batch is not counted)");
                return null;
            }

            var dims = new int[x.Count];
            for (int i = 0; i < dims.Length; i++)
            {
                dims[i] = x[i];
            }

            (dims[a], dims[b]) = (dims[b], dims[a]);
            return EquatableArray.Of(dims);
        }

        public override void WriteFields(SourceWriter w, GraphCode code, GraphNode node)
        {
            EquatableArray<int> x = code.Spec.Nodes[node.Inputs[0]].Shape;
            int a = node.Settings.Int(0) < 0 ? node.Settings.Int(0) + x.Count : node.Settings.Int(0);
            int b = node.Settings.Int(1) < 0 ? node.Settings.Int(1) + x.Count : node.Settings.Int(1);
            w.Line($"private static readonly int[] Node{node.Id}Table = global::StaticGrad.Kernels.Layout.TransposeTable(new int[] {{ {string.Join(", ", x)} }}, {a}, {b}); // output position → input position");
        }

        public override void WriteForward(SourceWriter w, GraphCode code, GraphNode node) =>
            w.Line($"global::StaticGrad.Kernels.Layout.Gather({code.ValueSpan(node.Inputs[0])}, Node{node.Id}Table, batch, {code.OutputSpan(node)});");

        /// <summary><c>Transpose</c> with the permutation that swaps the two dimensions, each one further along for the batch at 0.</summary>
        public override void WriteOnnx(OnnxBuilder onnx, GraphNode node)
        {
            int rank = node.Shape.Count;
            int a = node.Settings.Int(0) < 0 ? node.Settings.Int(0) + rank : node.Settings.Int(0);
            int b = node.Settings.Int(1) < 0 ? node.Settings.Int(1) + rank : node.Settings.Int(1);
            var perm = new long[rank + 1];
            for (int i = 0; i <= rank; i++)
            {
                perm[i] = i;
            }

            (perm[a + 1], perm[b + 1]) = (perm[b + 1], perm[a + 1]);
            onnx.Add(node, "Transpose", onnx.Output(node), new[] { onnx.Input(node, 0) }, OnnxBuilder.Attribute.Ints("perm", perm));
        }

        public override void WriteBackward(SourceWriter w, GraphCode code, GraphNode node, IReadOnlyList<string?> inputGradients)
        {
            if (inputGradients[0] is { } dX)
            {
                w.Line($"global::StaticGrad.Kernels.Layout.Scatter({code.GradientSpan(node.Id)}, Node{node.Id}Table, batch, {code.TargetSpan(dX, node.Inputs[0])});");
            }
        }

        public override IEnumerable<string> OnnxImports => new[] { "Transpose" };

        /// <summary>
        /// <c>Transpose</c> of a computed value whose permutation keeps the batch first (the importer folds a transpose of a
        /// constant weight itself): a swap of two dimensions is one op, any other permutation (PyTorch merges
        /// <c>k.transpose(1, 2)</c> of split heads and the <c>.transpose(2, 3)</c> of attention into <c>perm [0, 2, 3, 1]</c>)
        /// a chain of such swaps.
        /// </summary>
        public override void ImportOnnx(IOnnxImport import)
        {
            if (!import.IsValue(0))
            {
                import.Unsupported("its input is a constant of more than two dimensions");
                return;
            }

            int x = import.Value(0), rank = import.Shape(x).Count + 1;
            long[] perm = import.Ints("perm") ?? System.Linq.Enumerable.Range(0, rank).Select(i => (long)(rank - 1 - i)).ToArray();
            if (perm.Length != rank || perm[0] != 0 || perm.Distinct().Count() != rank || perm.Any(p => p < 0 || p >= rank))
            {
                import.Unsupported($"perm [{string.Join(", ", perm)}]: only a transpose that keeps the batch first imports");
                return;
            }

            // current[i]: the input dimension now at position i; swap positions until it is perm.
            int[] current = System.Linq.Enumerable.Range(0, rank).ToArray();
            int value = x;
            for (int i = 1; i < rank && value >= 0; i++)
            {
                int j = System.Array.IndexOf(current, (int)perm[i]);
                if (j == i)
                {
                    continue;
                }

                value = import.Add(this, new OpSettings(EquatableArray.Of(i - 1, j - 1), EquatableArray.Empty<double>(), string.Empty), new[] { value });
                (current[i], current[j]) = (current[j], current[i]);
            }

            if (value >= 0)
            {
                import.Output(value);
            }
        }
    }
}
