using System.Collections.Generic;
using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Graph;
using StaticGrad.Generators.Helpers;

namespace StaticGrad.Generators.Graph.Ops
{
    /// <summary>
    /// <c>x.Narrow(dim, start, length)</c>, PyTorch's <c>Tensor.narrow</c>: the slice <c>start … start + length − 1</c> of one
    /// dimension of each example (the batch is not one of them); the values are copied. It is also how a recurrent
    /// module's tuple (output, final state) reads the parts of the module's value.
    /// </summary>
    internal sealed class NarrowOp : OpDefinition
    {
        public static readonly NarrowOp Instance = new();

        public override string Key => "Narrow";

        public override string? TensorMember => "Narrow";

        public override bool AlwaysWritesInputGradient => false;

        public override string Formula => "y[…, i, …] = x[…, start + i, …] along the dimension";

        public override string BackwardFormula => "dX = dY in the slice, 0 elsewhere";

        public override string Describe(OpSettings settings) => $"Narrow({settings.Int(0)}, {settings.Int(1)}, {settings.Int(2)})";

        public override EquatableArray<int>? InferShape(OpSettings settings, IReadOnlyList<EquatableArray<int>> inputs, IShapeErrors errors)
        {
            EquatableArray<int> x = inputs[0];
            if (settings.Ints.Count != 3)
            {
                errors.Error("Narrow takes a dimension, a start and a length");
                return null;
            }

            int d = settings.Int(0) < 0 ? settings.Int(0) + x.Count : settings.Int(0), start = settings.Int(1), length = settings.Int(2);
            if (d < 0 || d >= x.Count)
            {
                errors.Error($"{Describe(settings)} on {Shapes.Text(x)}: a shape of rank {x.Count} has dimensions 0 to {x.Count - 1} (the batch is not counted)");
                return null;
            }

            if (length < 1 || start < 0 || (long)start + length > x[d])
            {
                errors.Error($"{Describe(settings)} on {Shapes.Text(x)}: rows {start} to {(long)start + length - 1} of dimension {d} are not within its {x[d]} (the length must be at least 1)");
                return null;
            }

            var dims = new int[x.Count];
            for (int i = 0; i < dims.Length; i++)
            {
                dims[i] = i == d ? length : x[i];
            }

            return EquatableArray.Of(dims);
        }

        public override void WriteForward(SourceWriter w, GraphCode code, GraphNode node)
        {
            (int outer, int chunk, int inputChunk, int offset) = Blocks(code.Spec, node);
            w.Line($"global::StaticGrad.Kernels.Layout.ConcatPartBackward({code.ValueSpan(node.Inputs[0])}, batch, {outer}, {chunk}, {inputChunk}, {offset}, {code.OutputSpan(node)}); // the slice's blocks");
        }

        public override void WriteBackward(SourceWriter w, GraphCode code, GraphNode node, IReadOnlyList<string?> inputGradients)
        {
            if (inputGradients[0] is not { } dX)
            {
                return;
            }

            (int outer, int chunk, int inputChunk, int offset) = Blocks(code.Spec, node);
            w.Line($"{code.TargetSpan(dX, node.Inputs[0])}.Clear();");
            w.Line($"global::StaticGrad.Kernels.Layout.ConcatPart({code.GradientSpan(node.Id)}, batch, {outer}, {chunk}, {inputChunk}, {offset}, {code.TargetSpan(dX, node.Inputs[0])});");
        }

        /// <summary><c>Slice</c> with constant starts, ends and axes (the dimension plus one: the batch is ONNX's dimension 0).</summary>
        public override void WriteOnnx(OnnxBuilder onnx, GraphNode node)
        {
            int d = Dimension(onnx.InputShape(node, 0), node.Settings);
            string starts = onnx.Int64s(node, "starts", node.Settings.Int(1));
            string ends = onnx.Int64s(node, "ends", node.Settings.Int(1) + node.Settings.Int(2));
            string axes = onnx.Int64s(node, "axes", d + 1);
            onnx.Add(node, "Slice", onnx.Output(node), new[] { onnx.Input(node, 0), starts, ends, axes });
        }

        private static int Dimension(EquatableArray<int> x, OpSettings settings) => settings.Int(0) < 0 ? settings.Int(0) + x.Count : settings.Int(0);

        /// <summary>Per example: outer blocks, the slice's values per block, the input's values per block, and where the slice starts in one.</summary>
        private static (int Outer, int Chunk, int InputChunk, int Offset) Blocks(GraphSpec spec, GraphNode node)
        {
            EquatableArray<int> x = spec.Nodes[node.Inputs[0]].Shape;
            int d = Dimension(x, node.Settings), outer = 1, inner = 1;
            for (int i = 0; i < x.Count; i++)
            {
                if (i < d)
                {
                    outer *= x[i];
                }
                else if (i > d)
                {
                    inner *= x[i];
                }
            }

            return (outer, node.Settings.Int(2) * inner, x[d] * inner, node.Settings.Int(1) * inner);
        }
    }
}
