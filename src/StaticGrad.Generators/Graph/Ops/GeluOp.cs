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
    }
}
