using StaticGrad.Generators.Emit.Graph;

namespace StaticGrad.Generators.Graph.Ops
{
    /// <summary><c>Sigmoid(x)</c>: <c>1/(1 + e^−x)</c>, without overflow for either sign.</summary>
    internal sealed class SigmoidOp : ElementwiseOp
    {
        public static readonly SigmoidOp Instance = new();

        public override string Key => "Sigmoid";

        public override string Formula => "y = 1/(1 + e^−x)";

        public override string BackwardFormula => "dX = dY·y·(1 − y)";

        protected override string ForwardCall(GraphNode node, string x, string y) => $"global::StaticGrad.Kernels.Activations.Sigmoid({x}, {y})";

        protected override string BackwardCall(GraphNode node, string x, string y, string dY, string dX) => $"global::StaticGrad.Kernels.Activations.SigmoidBackward({y}, {dY}, {dX})";

        /// <summary>ONNX's <c>Sigmoid</c>.</summary>
        public override void WriteOnnx(OnnxBuilder onnx, GraphNode node) =>
            onnx.Add(node, "Sigmoid", onnx.Output(node), new[] { onnx.Input(node, 0) });

        /// <summary>Imports ONNX's <c>Sigmoid</c>.</summary>
        protected override string? OnnxOpType => "Sigmoid";
    }
}
