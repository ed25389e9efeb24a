using StaticGrad.Generators.Emit.Graph;

namespace StaticGrad.Generators.Graph.Ops
{
    /// <summary><c>Silu(x)</c>: <c>x·σ(x)</c> (PyTorch's <c>F.silu</c>).</summary>
    internal sealed class SiluOp : ElementwiseOp
    {
        public static readonly SiluOp Instance = new();

        public override string Key => "Silu";

        public override string Formula => "y = x·σ(x)";

        public override string BackwardFormula => "dX = dY·σ(x)·(1 + x·(1 − σ(x)))";

        protected override string ForwardCall(GraphNode node, string x, string y) => $"global::StaticGrad.Kernels.Activations.Silu({x}, {y})";

        protected override string BackwardCall(GraphNode node, string x, string y, string dY, string dX) => $"global::StaticGrad.Kernels.Activations.SiluBackward({x}, {dY}, {dX})";

        /// <summary><c>Mul(x, Sigmoid(x))</c>.</summary>
        public override void WriteOnnx(OnnxBuilder onnx, GraphNode node)
        {
            string x = onnx.Input(node, 0);
            string sigmoid = onnx.Add(node, "Sigmoid", onnx.Temporary(node, "sigmoid"), new[] { x });
            onnx.Add(node, "Mul", onnx.Output(node), new[] { x, sigmoid });
        }
    }
}
