using System.Collections.Generic;
using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Graph;
using StaticGrad.Generators.Helpers;

namespace StaticGrad.Generators.Graph.Ops
{
    /// <summary>
    /// A constant tensor of an imported ONNX graph that an element-wise op reads (<c>x / 255</c>, <c>x · 0.5</c>, <c>x + c</c>):
    /// a float buffer (saved with the state, never trained) under the file's name, the same for every example of the batch.
    /// Only <c>[FromOnnx]</c> creates it.
    /// </summary>
    internal sealed class ConstantOp : OpDefinition
    {
        public static readonly ConstantOp Instance = new();

        public override string Key => "Constant";

        public override int Arity => 0;

        public override string Formula => "y[b, …] = C[…] for every example b (a constant of the file)";

        public override string BackwardFormula => "none (a constant)";

        /// <summary>Settings: the shape per example.</summary>
        public override IEnumerable<StateDeclaration> State(OpSettings settings)
        {
            yield return new StateDeclaration(string.Empty, StateKind.Buffer, settings.Ints, InitKind.Zeros, 0, IsWeight: false);
        }

        public override string Describe(OpSettings settings) => $"Constant({string.Join(", ", settings.Ints)})";

        public override EquatableArray<int>? InferShape(OpSettings settings, IReadOnlyList<EquatableArray<int>> inputs, IShapeErrors errors) => settings.Ints;

        public override void WriteForward(SourceWriter w, GraphCode code, GraphNode node)
        {
            StateTensor constant = code.Buffer(node, string.Empty);
            w.Line($"global::StaticGrad.Kernels.Lookup.Repeat(new {code.ReadOnlySpan}(_buffers, {GraphCode.Int(constant.Offset)}, {GraphCode.Int(constant.Count)}), batch, {code.OutputSpan(node)});");
        }

        public override void WriteBackward(SourceWriter w, GraphCode code, GraphNode node, IReadOnlyList<string?> inputGradients) =>
            w.Line("// A constant: nothing to train.");

        /// <summary>The buffer with a batch dimension of 1 in front, which ONNX broadcasts over the batch.</summary>
        public override void WriteOnnx(OnnxBuilder onnx, GraphNode node) =>
            onnx.Add(node, "Unsqueeze", onnx.Output(node), new[] { onnx.Buffer(node, string.Empty), onnx.Int64s(node, "axes", 0) });
    }
}
