using System.Collections.Generic;
using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Graph;
using StaticGrad.Generators.Helpers;

namespace StaticGrad.Generators.Graph.Ops
{
    /// <summary><c>Softmax(x, dim)</c>, PyTorch's <c>F.softmax(x, dim)</c> along one dimension of each example (negative counts from the end).</summary>
    internal sealed class SoftmaxOp : OpDefinition
    {
        public static readonly SoftmaxOp Instance = new();

        public override string Key => "Softmax";

        public override string? Function => "Softmax";

        public override string Formula => "y = exp(x − max x) / Σ exp(x − max x) along dim";

        public override string BackwardFormula => "dX = y ⊙ (dY − Σ dY⊙y) along dim";

        public override OpSettings ReadSettings(IOpArguments arguments) =>
            new(EquatableArray.Of(arguments.Int("dim")), EquatableArray.Empty<double>(), string.Empty);

        public override string Describe(OpSettings settings) => $"Softmax(dim: {settings.Int(0)})";

        public override EquatableArray<int>? InferShape(OpSettings settings, IReadOnlyList<EquatableArray<int>> inputs, IShapeErrors errors)
        {
            EquatableArray<int> x = inputs[0];
            int dim = settings.Int(0) < 0 ? settings.Int(0) + x.Count : settings.Int(0);
            if (dim < 0 || dim >= x.Count)
            {
                errors.Error($"{Describe(settings)} on {Shapes.Text(x)}: a shape of rank {x.Count} has dimensions 0 to {x.Count - 1} (the batch is not counted)");
                return null;
            }

            return x;
        }

        public override void WriteForward(SourceWriter w, GraphCode code, GraphNode node)
        {
            (int length, int inner) = Extent(node);
            w.Line($"global::StaticGrad.Kernels.Attention.Softmax({code.ValueSpan(node.Inputs[0])}, {code.OutputSpan(node)}, {length}, {inner});");
        }

        public override void WriteOnnx(OnnxBuilder onnx, GraphNode node)
        {
            int dim = node.Settings.Int(0) < 0 ? node.Settings.Int(0) + node.Shape.Count : node.Settings.Int(0);
            onnx.Add(node, "Softmax", onnx.Output(node), new[] { onnx.Input(node, 0) }, OnnxBuilder.Attribute.Int("axis", dim + 1));
        }

        public override void WriteBackward(SourceWriter w, GraphCode code, GraphNode node, IReadOnlyList<string?> inputGradients)
        {
            if (inputGradients[0] is { } dX)
            {
                (int length, int inner) = Extent(node);
                w.Line($"global::StaticGrad.Kernels.Attention.SoftmaxBackward({code.ValueSpan(node.Id)}, {code.GradientSpan(node.Id)}, {code.TargetSpan(dX, node.Inputs[0])}, {length}, {inner});");
            }
        }

        private static (int Length, int Inner) Extent(GraphNode node)
        {
            int dim = node.Settings.Int(0) < 0 ? node.Settings.Int(0) + node.Shape.Count : node.Settings.Int(0);
            int inner = 1;
            for (int i = dim + 1; i < node.Shape.Count; i++)
            {
                inner *= node.Shape[i];
            }

            return (node.Shape[dim], inner);
        }

        public override IEnumerable<string> OnnxImports => new[] { "Softmax" };

        /// <summary>
        /// <c>Softmax</c> along one dimension that is not the batch (opset 13 on; before it, along the last dimension only,
        /// where the old "flatten from axis" meaning is the same).
        /// </summary>
        public override void ImportOnnx(IOnnxImport import)
        {
            if (!import.IsValue(0))
            {
                import.Unsupported("its input is a constant");
                return;
            }

            int x = import.Value(0), rank = import.Shape(x).Count + 1;
            long axis = import.Int("axis", import.Opset >= 13 ? -1 : 1);
            long dim = axis < 0 ? axis + rank : axis;
            if (dim <= 0 || dim >= rank || (import.Opset < 13 && dim != rank - 1))
            {
                import.Unsupported($"axis {axis} on a value of rank {rank}{(import.Opset < 13 ? $" at opset {import.Opset}" : string.Empty)}: only a softmax along a dimension of each example{(import.Opset < 13 ? " (the last one, before opset 13)" : string.Empty)} imports");
                return;
            }

            int id = import.Add(this, new OpSettings(EquatableArray.Of((int)dim - 1), EquatableArray.Empty<double>(), string.Empty), new[] { x });
            if (id >= 0)
            {
                import.Output(id);
            }
        }
    }
}
