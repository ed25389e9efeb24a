using StaticGrad.Generators.Emit.Graph;
using StaticGrad.Generators.Helpers;

namespace StaticGrad.Generators.Graph.Ops
{
    /// <summary><c>Gelu(x, approximate: "none")</c>: PyTorch's <c>F.gelu</c>, exact (<c>x·Φ(x)</c>, with erf) or its tanh approximation.</summary>
    internal sealed class GeluOp : ElementwiseOp
    {
        public static readonly GeluOp Instance = new();

        public override string Key => "Gelu";

        public override string Formula => "y = x·Φ(x) (approximate: \"tanh\": 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))))";

        public override string BackwardFormula => "dX = dY·(Φ(x) + x·φ(x)), or the tanh form's derivative";

        public override OpSettings ReadSettings(IOpArguments arguments)
        {
            string approximate = arguments.Text("approximate");
            if (approximate is not ("none" or "tanh"))
            {
                arguments.Error("approximate", $"approximate must be \"none\" or \"tanh\", as in PyTorch, got \"{approximate}\"");
            }

            return new OpSettings(EquatableArray.Empty<int>(), EquatableArray.Empty<double>(), approximate);
        }

        public override string Describe(OpSettings settings) => settings.Text == "tanh" ? "Gelu(approximate: \"tanh\")" : "Gelu";

        private static string Tanh(GraphNode node) => node.Settings.Text == "tanh" ? "true" : "false";

        protected override string ForwardCall(GraphNode node, string x, string y) => $"global::StaticGrad.Kernels.Activations.Gelu({x}, {y}, tanhApproximation: {Tanh(node)})";

        protected override string BackwardCall(GraphNode node, string x, string y, string dY, string dX) => $"global::StaticGrad.Kernels.Activations.GeluBackward({x}, {dY}, {dX}, tanhApproximation: {Tanh(node)})";

        /// <summary>On the model's worker team: the elements are split between its threads (the same result as on one).</summary>
        protected override string ForwardCall(GraphCode code, GraphNode node, string x, string y) => $"global::StaticGrad.Kernels.Activations.Gelu({x}, {y}, tanhApproximation: {Tanh(node)}, {code.Team})";

        protected override string BackwardCall(GraphCode code, GraphNode node, string x, string y, string dY, string dX) => $"global::StaticGrad.Kernels.Activations.GeluBackward({x}, {dY}, {dX}, tanhApproximation: {Tanh(node)}, {code.Team})";

        /// <summary>
        /// Written out at every opset (ONNX's own <c>Gelu</c> arrives only in opset 20): exact,
        /// <c>0.5·x·(1 + Erf(x·(1/√2)))</c>; approximate, <c>0.5·x·(1 + Tanh(√(2/π)·(x + 0.044715·x³)))</c>.
        /// </summary>
        public override void WriteOnnx(OnnxBuilder onnx, GraphNode node)
        {
            string x = onnx.Input(node, 0);
            string Add(string op, string output, params string[] inputs) => onnx.Add(node, op, onnx.Temporary(node, output), inputs);
            string inner;
            if (node.Settings.Text == "tanh")
            {
                string cube = Add("Mul", "cube", Add("Mul", "square", x, x), x);
                string sum = Add("Add", "inner", x, Add("Mul", "cubic_term", cube, onnx.Scalar(0.044715)));
                inner = Add("Tanh", "tanh", Add("Mul", "scaled", sum, onnx.Scalar(System.Math.Sqrt(2 / System.Math.PI))));
            }
            else
            {
                inner = Add("Erf", "erf", Add("Mul", "scaled", x, onnx.Scalar(1 / System.Math.Sqrt(2))));
            }

            string half = Add("Mul", "half_x", x, onnx.Scalar(0.5));
            onnx.Add(node, "Mul", onnx.Output(node), new[] { half, Add("Add", "one_plus", inner, onnx.Scalar(1)) });
        }

        /// <summary>ONNX's <c>Gelu</c> (opset 20), and the exact-GELU chains of PyTorch's and StaticGrad's exports, which the importer fuses into one.</summary>
        protected override string? OnnxOpType => "Gelu";

        /// <summary>A GELU of a computed value: <c>approximate</c> "none" (the chains are the exact one) or "tanh".</summary>
        public override void ImportOnnx(IOnnxImport import)
        {
            string approximate = import.Text("approximate", "none");
            if (!import.IsValue(0) || approximate is not ("none" or "tanh"))
            {
                import.Unsupported(import.IsValue(0) ? $"approximate = \"{approximate}\"" : "its input is a constant");
                return;
            }

            int id = import.Add(this, new OpSettings(EquatableArray.Empty<int>(), EquatableArray.Empty<double>(), approximate), new[] { import.Value(0) });
            if (id >= 0)
            {
                import.Output(id);
            }
        }
    }
}
