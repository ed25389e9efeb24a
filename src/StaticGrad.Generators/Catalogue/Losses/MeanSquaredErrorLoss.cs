using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Network;
using StaticGrad.Generators.Model;

namespace StaticGrad.Generators.Catalogue.Losses
{
    /// <summary><c>[MeanSquaredError]</c>: PyTorch's <c>nn.MSELoss()</c>, the mean over every output of the batch.</summary>
    internal sealed class MeanSquaredErrorLoss : LossDefinition
    {
        public static readonly MeanSquaredErrorLoss Instance = new();

        public override LossKind Kind => LossKind.MeanSquaredError;

        public override string Name => "MeanSquaredError";

        public override bool TakesLabels => false;

        public override int MinimumWidth => 0;

        public override string Formula(NetworkCode code)
        {
            int n = code.Spec.OutputSize;
            return $"L = (1/(B·{n})) Σ (y − t)²; dy = 2(y − t) / (B·{n})";
        }

        public override void WriteLoss(SourceWriter w, NetworkCode code)
        {
            string t = code.T;
            int n = code.Spec.OutputSize;
            w.Line($"{t} scale = {code.Literal(2)} / (batch * {n});");
            w.Open($"for (int e = 0; e < batch * {n}; e++)");
            w.Line($"{t} difference = outputs[e] - targets[e];");
            w.Line("total += (double)difference * difference;");
            w.Open("if (withGradient)");
            w.Line("outputGradients[e] = scale * difference;");
            w.Close();
            w.Close();
            w.Line();
            w.Line($"return ({t})(total / (batch * {n}));");
        }
    }
}
