using System.Collections.Generic;
using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Graph;
using StaticGrad.Generators.Helpers;

namespace StaticGrad.Generators.Graph.Ops
{
    /// <summary><c>AdaptiveAvgPool2d(x, 1)</c>: the mean of each channel's plane, C×H×W → C×1×1 (other output sizes are not supported).</summary>
    internal sealed class AdaptiveAvgPool2dOp : OpDefinition
    {
        public static readonly AdaptiveAvgPool2dOp Instance = new();

        public override string Key => "AdaptiveAvgPool2d";

        public override string? Function => Key;

        public override string Formula => "y[c] = the mean of x[c, :, :]";

        public override string BackwardFormula => "dX[c, i, j] = dY[c]/(H·W)";

        public override OpSettings ReadSettings(IOpArguments arguments)
        {
            int size = arguments.Int("outputSize");
            if (size != 1)
            {
                arguments.Error("outputSize", $"AdaptiveAvgPool2d supports an output size of 1 (global average pooling), got {size}");
            }

            return new OpSettings(EquatableArray.Of(size), EquatableArray.Empty<double>(), string.Empty);
        }

        public override string Describe(OpSettings settings) => "AdaptiveAvgPool2d(1)";

        public override EquatableArray<int>? InferShape(OpSettings settings, IReadOnlyList<EquatableArray<int>> inputs, IShapeErrors errors)
        {
            EquatableArray<int> x = inputs[0];
            if (x.Count != 3)
            {
                errors.Error($"AdaptiveAvgPool2d expects an image C×H×W, but receives {Shapes.Text(x)}");
                return null;
            }

            return Shapes.Of(x[0], 1, 1);
        }

        public override void WriteForward(SourceWriter w, GraphCode code, GraphNode node)
        {
            EquatableArray<int> x = code.Spec.Nodes[node.Inputs[0]].Shape;
            w.Line($"global::StaticGrad.Kernels.Pooling.GlobalAveragePool({code.ValueSpan(node.Inputs[0])}, batch, {x[0]}, {x[1] * x[2]}, {code.OutputSpan(node)});");
        }

        /// <summary><c>GlobalAveragePool</c>: [batch, C, H, W] → [batch, C, 1, 1], the shape here.</summary>
        public override void WriteOnnx(OnnxBuilder onnx, GraphNode node) =>
            onnx.Add(node, "GlobalAveragePool", onnx.Output(node), new[] { onnx.Input(node, 0) });

        public override void WriteBackward(SourceWriter w, GraphCode code, GraphNode node, IReadOnlyList<string?> inputGradients)
        {
            if (inputGradients[0] is { } dX)
            {
                EquatableArray<int> x = code.Spec.Nodes[node.Inputs[0]].Shape;
                w.Line($"global::StaticGrad.Kernels.Pooling.GlobalAveragePoolBackward({code.GradientSpan(node.Id)}, batch, {x[0]}, {x[1] * x[2]}, {code.TargetSpan(dX, node.Inputs[0])});");
            }
        }

        public override IEnumerable<string> OnnxImports => new[] { "GlobalAveragePool" };

        /// <summary><c>GlobalAveragePool</c> on [batch, C, H, W].</summary>
        public override void ImportOnnx(IOnnxImport import)
        {
            if (!import.IsValue(0))
            {
                import.Unsupported("its input is a constant");
                return;
            }

            int id = import.Add(this, new OpSettings(EquatableArray.Of(1), EquatableArray.Empty<double>(), string.Empty), new[] { import.Value(0) });
            if (id >= 0)
            {
                import.Output(id);
            }
        }
    }
}
