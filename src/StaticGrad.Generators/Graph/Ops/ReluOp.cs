using StaticGrad.Generators.Emit.Graph;

namespace StaticGrad.Generators.Graph.Ops
{
    /// <summary><c>Relu(x)</c>: <c>max(x, 0)</c>.</summary>
    internal sealed class ReluOp : ElementwiseOp
    {
        public static readonly ReluOp Instance = new();

        public override string Key => "Relu";

        public override string Formula => "y = max(x, 0)";

        public override string BackwardFormula => "dX = dY·[y > 0]";

        /// <summary>BatchNorm applies it in its own pass (see <see cref="OpDefinition.FoldableActivation"/>).</summary>
        public override string? FoldableActivation => Key;

        protected override string ForwardCall(GraphNode node, string x, string y) => $"global::StaticGrad.Kernels.Elementwise.Relu({x}, {y})";

        protected override string BackwardCall(GraphNode node, string x, string y, string dY, string dX) => $"global::StaticGrad.Kernels.Elementwise.ReluBackward({y}, {dY}, {dX})";

        /// <summary>ONNX's <c>Relu</c>.</summary>
        public override void WriteOnnx(OnnxBuilder onnx, GraphNode node) =>
            onnx.Add(node, "Relu", onnx.Output(node), new[] { onnx.Input(node, 0) });

        /// <summary>Imports ONNX's <c>Relu</c>.</summary>
        protected override string? OnnxOpType => "Relu";
    }
}
