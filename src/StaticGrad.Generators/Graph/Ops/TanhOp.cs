using StaticGrad.Generators.Emit.Graph;

namespace StaticGrad.Generators.Graph.Ops
{
    /// <summary><c>Tanh(x)</c>.</summary>
    internal sealed class TanhOp : ElementwiseOp
    {
        public static readonly TanhOp Instance = new();

        public override string Key => "Tanh";

        public override string Formula => "y = tanh(x)";

        public override string BackwardFormula => "dX = dY·(1 − y²)";

        protected override string ForwardCall(GraphNode node, string x, string y) => $"global::StaticGrad.Kernels.Activations.Tanh({x}, {y})";

        protected override string BackwardCall(GraphNode node, string x, string y, string dY, string dX) => $"global::StaticGrad.Kernels.Activations.TanhBackward({y}, {dY}, {dX})";

        /// <summary>ONNX's <c>Tanh</c>.</summary>
        public override void WriteOnnx(OnnxBuilder onnx, GraphNode node) =>
            onnx.Add(node, "Tanh", onnx.Output(node), new[] { onnx.Input(node, 0) });

        /// <summary>Imports ONNX's <c>Tanh</c>.</summary>
        protected override string? OnnxOpType => "Tanh";
    }
}
