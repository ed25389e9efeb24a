using System.Collections.Generic;
using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Graph;
using StaticGrad.Generators.Helpers;

namespace StaticGrad.Generators.Graph.Ops
{
    /// <summary>
    /// <c>Dropout(p: 0.5)</c>, PyTorch's <c>nn.Dropout</c>: in training each value is kept with probability 1 − p and scaled by
    /// 1/(1 − p) (the model's seeded xorshift64* generator); in evaluation the identity.
    /// </summary>
    internal sealed class DropoutOp : OpDefinition
    {
        public static readonly DropoutOp Instance = new();

        public override string Key => "Dropout";

        public override string? ModuleClass => "Dropout";

        public override string Formula => "y = x·mask, mask = [u ≥ p]/(1 − p) with u uniform in [0, 1) (training); y = x (evaluation)";

        public override string BackwardFormula => "dX = dY·mask";

        public override OpSettings ReadSettings(IOpArguments arguments)
        {
            double p = arguments.Real("p");
            if (!(p >= 0 && p < 1))
            {
                arguments.Error("p", $"p must be at least 0 and below 1, got {p}");
            }

            return new OpSettings(EquatableArray.Empty<int>(), EquatableArray.Of(p), string.Empty);
        }

        public override string Describe(OpSettings settings) => $"Dropout({GraphCode.Real(settings.Real(0))})";

        public override EquatableArray<int>? InferShape(OpSettings settings, IReadOnlyList<EquatableArray<int>> inputs, IShapeErrors errors) => inputs[0];

        public override void WriteFields(SourceWriter w, GraphCode code, GraphNode node) =>
            w.Line($"private readonly {code.T}[] _node{node.Id}Mask; // 0 or 1/(1 − p) per value of the last training batch");

        public override void WriteAllocation(SourceWriter w, GraphCode code, GraphNode node) =>
            w.Line($"_node{node.Id}Mask = new {code.T}[maxBatchSize * {node.Size}];");

        public override void WriteForward(SourceWriter w, GraphCode code, GraphNode node)
        {
            double p = node.Settings.Real(0);
            w.Line($"{code.T}[] x = {code.Value(node.Inputs[0])}, y = {code.Value(node.Id)}, mask = _node{node.Id}Mask;");
            w.Open("if (!_training)");
            w.Line($"new {code.ReadOnlySpan}(x, 0, batch * {node.Size}).CopyTo(y);");
            w.Line($"new {code.Span}(mask, 0, batch * {node.Size}).Fill({code.Number(1)});");
            w.Line("return;");
            w.Close();
            w.Open($"for (int i = 0; i < batch * {node.Size}; i++)");
            w.Line("_dropoutState ^= _dropoutState >> 12;");
            w.Line("_dropoutState ^= _dropoutState << 25;");
            w.Line("_dropoutState ^= _dropoutState >> 27;");
            w.Line("float u = ((_dropoutState * 0x2545F4914F6CDD1DUL) >> 40) * (1f / 16777216f);");
            w.Line($"mask[i] = u >= {GraphCode.Real(p)}f ? {code.Number(1 / (1 - p))} : 0;");
            w.Line("y[i] = x[i] * mask[i];");
            w.Close();
        }

        /// <summary>The identity in evaluation mode: an <c>Identity</c> node.</summary>
        public override void WriteOnnx(OnnxBuilder onnx, GraphNode node) =>
            onnx.Add(node, "Identity", onnx.Output(node), new[] { onnx.Input(node, 0) });

        public override void WriteBackward(SourceWriter w, GraphCode code, GraphNode node, IReadOnlyList<string?> inputGradients)
        {
            if (inputGradients[0] is not { } dX)
            {
                return;
            }

            w.Line($"{code.T}[] dY = {code.Gradient(node.Id)}, mask = _node{node.Id}Mask, dX = {dX};");
            w.Open($"for (int i = 0; i < batch * {node.Size}; i++)");
            w.Line("dX[i] = dY[i] * mask[i];");
            w.Close();
        }

        public override IEnumerable<string> OnnxImports => new[] { "Dropout" };

        /// <summary>
        /// <c>Dropout</c> with its ratio (an attribute before opset 12, a constant input from it): <c>Dropout(p)</c>, which
        /// evaluation skips and training applies, as PyTorch's module does.
        /// </summary>
        public override void ImportOnnx(IOnnxImport import)
        {
            if (!import.IsValue(0))
            {
                import.Unsupported("its input is a constant");
                return;
            }

            double p = import.Float("ratio", 0.5);
            if (import.Opset >= 12 && import.HasInput(1))
            {
                if (import.Constant(1) is not { } ratio)
                {
                    return;
                }

                p = ratio.Values.Length == 1 ? ratio.Values[0] : -1;
            }

            if (!(p >= 0 && p < 1))
            {
                import.Unsupported($"the ratio {p} is not in [0, 1)");
                return;
            }

            int id = import.Add(this, new OpSettings(EquatableArray.Empty<int>(), EquatableArray.Of(System.Math.Round(p, 6)), string.Empty), new[] { import.Value(0) });
            if (id >= 0)
            {
                import.Output(id);
            }
        }
    }
}
