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
    }
}
