using System.Collections.Generic;
using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Graph;
using StaticGrad.Generators.Helpers;

namespace StaticGrad.Generators.Graph.Ops
{
    /// <summary>
    /// <c>x.detach()</c>: the same values, through which no gradient flows, so what computes <c>x</c> is not trained (its
    /// parameters' gradients stay 0). <c>[FromOnnx(Freeze = true)]</c> puts it between the imported layers and the new head.
    /// A view of its input's memory: no forward code, and a backward that writes nothing.
    /// </summary>
    internal sealed class DetachOp : OpDefinition
    {
        public static readonly DetachOp Instance = new();

        public override string Key => "Detach";

        public override bool IsView => true;

        public override string Formula => "y = x (a view), with no gradient back to x";

        public override string BackwardFormula => "none: the layers before it are frozen";

        public override EquatableArray<int>? InferShape(OpSettings settings, IReadOnlyList<EquatableArray<int>> inputs, IShapeErrors errors) => inputs[0];

        public override void WriteForward(SourceWriter w, GraphCode code, GraphNode node)
        {
        }

        public override void WriteBackward(SourceWriter w, GraphCode code, GraphNode node, IReadOnlyList<string?> inputGradients) =>
            w.Line("// Nothing flows back: the layers before this one are frozen.");

        /// <summary>ONNX's <c>Identity</c> (inference has no gradients).</summary>
        public override void WriteOnnx(OnnxBuilder onnx, GraphNode node) =>
            onnx.Add(node, "Identity", onnx.Output(node), new[] { onnx.Input(node, 0) });
    }
}
